//! `state_dict` / `load_state_dict`: round trips, in-place loading, and a typed error
//! for every way a state dict can fail to fit (with the model left unchanged).

use nabla_autograd::{manual_seed, DType, NdArray, Tensor};
use nabla_nn::{IncompatibleKeys, Linear, Module, ModuleExt, StateDict, StateDictError};

#[derive(Module)]
#[module(crate = "nabla_nn")]
struct Net {
    fc: Linear,
    out: Linear,
}

fn net(seed: u64) -> Net {
    manual_seed(seed);
    Net { fc: Linear::new(3, 4), out: Linear::new(4, 2) }
}

fn values(m: &impl ModuleExt) -> Vec<Vec<f32>> {
    m.parameters().iter().map(|p| p.to_vec::<f32>()).collect()
}

#[test]
fn round_trip_copies_values_in_place() {
    let (a, b) = (net(1), net(2));
    assert_ne!(values(&a), values(&b));
    let handle = b.fc.weight.clone(); // what an optimizer holds
    let report = b.load_state_dict(&a.state_dict(), true).unwrap();
    assert!(report.is_empty());
    assert_eq!(values(&a), values(&b));
    assert!(handle.same_as(&b.fc.weight));
    assert_eq!(handle.to_vec::<f32>(), a.fc.weight.to_vec::<f32>());
    assert!(handle.requires_grad() && handle.is_leaf());
}

#[test]
fn state_dict_is_a_snapshot() {
    let m = net(1);
    let before = m.state_dict();
    {
        let _g = nabla_autograd::no_grad();
        m.fc.weight.fill_(7.0);
    }
    assert_ne!(before["fc.weight"].to_vec::<f32>(), vec![7.0; 12]);
    assert_eq!(m.state_dict()["fc.weight"].to_vec::<f32>(), vec![7.0; 12]);
}

/// Loads `state` strictly and checks the model did not change.
fn refused(state: &StateDict, strict: bool) -> StateDictError {
    let m = net(3);
    let before = values(&m);
    let err = m.load_state_dict(state, strict).unwrap_err();
    assert_eq!(values(&m), before, "a refused load must not write anything");
    assert!(!err.to_string().is_empty());
    err
}

#[test]
fn missing_key_is_an_error_when_strict() {
    let mut state = net(1).state_dict();
    state.remove("out.bias");
    let err = refused(&state, true);
    assert_eq!(
        err,
        StateDictError::Incompatible { missing: vec!["out.bias".into()], unexpected: vec![], mismatched: vec![] }
    );
    assert!(err.to_string().contains("Missing key(s) in state_dict: \"out.bias\""), "{err}");
}

#[test]
fn unexpected_key_is_an_error_when_strict() {
    let mut state = net(1).state_dict();
    state.insert("extra.weight".into(), NdArray::zeros(&[1], DType::F32));
    let err = refused(&state, true);
    assert!(
        matches!(&err, StateDictError::Incompatible { unexpected, missing, .. } if unexpected == &["extra.weight"] && missing.is_empty()),
        "{err:?}"
    );
}

#[test]
fn non_strict_load_reports_skipped_keys() {
    let source = net(1);
    let mut state = source.state_dict();
    state.remove("out.bias");
    state.insert("extra".into(), NdArray::zeros(&[1], DType::F32));
    let m = net(3);
    let report = m.load_state_dict(&state, false).unwrap();
    assert_eq!(report, IncompatibleKeys { missing: vec!["out.bias".into()], unexpected: vec!["extra".into()] });
    assert_eq!(m.fc.weight.to_vec::<f32>(), source.fc.weight.to_vec::<f32>());
}

#[test]
fn shape_mismatch_is_an_error_even_when_not_strict() {
    let mut state = net(1).state_dict();
    state.insert("fc.weight".into(), NdArray::zeros(&[4, 2], DType::F32));
    for strict in [true, false] {
        let StateDictError::Incompatible { mismatched, .. } = refused(&state, strict) else { panic!() };
        assert_eq!(mismatched.len(), 1);
        let m = &mismatched[0];
        assert_eq!(
            (m.key.as_str(), m.expected_shape.as_slice(), m.found_shape.as_slice()),
            ("fc.weight", &[4, 3][..], &[4, 2][..])
        );
    }
}

#[test]
fn dtype_mismatch_is_an_error() {
    let mut state = net(1).state_dict();
    state.insert("out.bias".into(), NdArray::zeros(&[2], DType::F64));
    let err = refused(&state, true);
    let StateDictError::Incompatible { mismatched, .. } = &err else { panic!() };
    assert_eq!((mismatched[0].expected_dtype, mismatched[0].found_dtype), (DType::F32, DType::F64));
    assert!(err.to_string().contains("Mismatch for out.bias"), "{err}");
}

#[test]
fn zero_matching_keys_is_an_error_even_when_not_strict() {
    let state: StateDict = net(1).state_dict().into_iter().map(|(k, v)| (format!("module.{k}"), v)).collect();
    for strict in [true, false] {
        let err = refused(&state, strict);
        assert!(
            matches!(&err, StateDictError::NoMatchingKeys { model, state_dict } if model.len() == 4 && state_dict.len() == 4)
        );
        assert!(err.to_string().contains("\"module.fc.bias\""), "{err}");
    }
    assert!(matches!(refused(&StateDict::new(), false), StateDictError::NoMatchingKeys { .. }));
}

#[test]
fn loaded_values_are_used_by_the_next_forward_and_backward() {
    let (a, b) = (net(1), net(2));
    b.load_state_dict(&a.state_dict(), true).unwrap();
    let x = Tensor::ones(&[1, 3]);
    let f = |m: &Net| {
        use nabla_nn::Forward;
        m.out.forward(&m.fc.forward(&x))
    };
    assert_eq!(f(&a).to_vec::<f32>(), f(&b).to_vec::<f32>());
    f(&b).sum().backward();
    assert!(b.fc.weight.grad().is_some());
}
