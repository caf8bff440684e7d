//! Serde support: an `NdArray` serialises as its dtype, shape and row-major values,
//! whatever its strides, so checkpoints never depend on how a value was laid out.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::array::NdArray;
use crate::dtype::DType;
use crate::storage::Storage;

/// The serialised form of an [`NdArray`].
#[derive(Serialize, Deserialize)]
struct ArrayRecord {
    shape: Vec<usize>,
    data: Storage,
}

impl Serialize for NdArray {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let c = self.contiguous();
        let data = match self.dtype() {
            DType::F32 => Storage::F32(c.to_vec()),
            DType::F64 => Storage::F64(c.to_vec()),
            DType::I64 => Storage::I64(c.to_vec()),
        };
        ArrayRecord { shape: self.shape().to_vec(), data }.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for NdArray {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let r = ArrayRecord::deserialize(deserializer)?;
        let expected = r.shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        if expected != Some(r.data.len()) {
            return Err(serde::de::Error::custom(format!(
                "array record holds {} values but its shape {:?} needs {}",
                r.data.len(),
                r.shape,
                expected.map_or("more than usize::MAX".to_string(), |n| n.to_string())
            )));
        }
        Ok(NdArray::from_storage(r.data, &r.shape))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strided_array_round_trips_as_its_values() {
        let a = NdArray::arange(0.0, 6.0, 1.0, DType::F64).reshape(&[2, 3]).t();
        let bytes = bincode::serialize(&a).unwrap();
        let b: NdArray = bincode::deserialize(&bytes).unwrap();
        assert_eq!(b.shape(), &[3, 2]);
        assert_eq!(b.to_vec::<f64>(), a.to_vec::<f64>());
        assert!(b.is_contiguous());
    }

    #[test]
    fn record_with_wrong_length_is_an_error() {
        let bad = ArrayRecord { shape: vec![2, 2], data: Storage::I64(vec![1, 2, 3]) };
        let bytes = bincode::serialize(&bad).unwrap();
        let err = bincode::deserialize::<NdArray>(&bytes).unwrap_err().to_string();
        assert!(err.contains("holds 3 values but its shape [2, 2] needs 4"), "{err}");
    }
}
