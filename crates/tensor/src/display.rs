//! PyTorch-like printing: `tensor([[1.0000, 2.0000], ...])`, summarised when large.

use std::fmt;

use crate::array::NdArray;
use crate::dtype::DType;

/// Arrays with more elements than this print only their first and last `EDGE` items
/// per dim, as PyTorch does.
const SUMMARY_THRESHOLD: usize = 1000;
const EDGE: usize = 3;

fn format_value(v: f64, dtype: DType, integral: bool) -> String {
    match dtype {
        DType::I64 => format!("{}", v as i64),
        _ if v.is_nan() => "nan".into(),
        _ if v.is_infinite() => {
            if v > 0.0 {
                "inf".into()
            } else {
                "-inf".into()
            }
        }
        _ if integral => format!("{v:.0}."),
        _ if v != 0.0 && (v.abs() >= 1e8 || v.abs() < 1e-4) => format!("{v:.4e}"),
        _ => format!("{v:.4}"),
    }
}

impl fmt::Display for NdArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values = self.to_vec::<f64>();
        let integral = values.iter().all(|v| !v.is_finite() || v.fract() == 0.0);
        let cells: Vec<String> = values.iter().map(|&v| format_value(v, self.dtype(), integral)).collect();
        let width = cells.iter().map(String::len).max().unwrap_or(0);
        let summarise = self.numel() > SUMMARY_THRESHOLD;
        let mut out = String::from("tensor(");
        write_dim(&mut out, self.shape(), &cells, 0, 0, width, summarise);
        match self.dtype() {
            DType::F32 => {}
            dt => out.push_str(&format!(", dtype={dt}")),
        }
        out.push(')');
        f.write_str(&out)
    }
}

fn write_dim(
    out: &mut String,
    shape: &[usize],
    cells: &[String],
    dim: usize,
    start: usize,
    width: usize,
    summarise: bool,
) {
    if dim == shape.len() {
        out.push_str(&format!("{:>width$}", cells[start]));
        return;
    }
    let n = shape[dim];
    let inner: usize = shape[dim + 1..].iter().product();
    out.push('[');
    let indent = " ".repeat("tensor(".len() + dim + 1);
    let sep = if dim + 1 == shape.len() {
        ", ".to_string()
    } else {
        format!(",{}{}", "\n".repeat(shape.len() - dim - 1), indent)
    };
    let mut first = true;
    for i in 0..n {
        if summarise && n > 2 * EDGE && i == EDGE {
            out.push_str(&sep);
            out.push_str("...");
            continue;
        }
        if summarise && n > 2 * EDGE && i > EDGE && i < n - EDGE {
            continue;
        }
        if !first {
            out.push_str(&sep);
        }
        first = false;
        write_dim(out, shape, cells, dim + 1, start + i * inner, width, summarise);
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_torch() {
        let a = NdArray::from_vec(vec![1.0f32, 2.0, 3.0, 4.5], &[2, 2]);
        assert_eq!(a.to_string(), "tensor([[1.0000, 2.0000],\n        [3.0000, 4.5000]])");
        let b = NdArray::from_vec(vec![1i64, -20], &[2]);
        assert_eq!(b.to_string(), "tensor([  1, -20], dtype=i64)");
        assert_eq!(NdArray::scalar(3.0, DType::F32).to_string(), "tensor(3.)");
    }
}
