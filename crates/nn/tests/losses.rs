//! The losses of `nn::functional`: values and input gradients against PyTorch's golden
//! values (`fixtures/losses.json`, written by `tools/fixtures/gen_losses.py`; no Python
//! needed here), finite-difference gradient checks, and the validation of targets,
//! shapes, dtypes and options under every reduction, in both the panicking and the
//! `try_` forms.

mod common;

use common::Array;
use nabla_autograd::{gradcheck, DType, Tensor};
use nabla_nn::functional::{
    binary_cross_entropy, binary_cross_entropy_with, binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_with, cross_entropy, cross_entropy_with, l1_loss, l1_loss_with, mse_loss,
    mse_loss_with, nll_loss, nll_loss_with, try_binary_cross_entropy, try_binary_cross_entropy_with_logits,
    try_cross_entropy, try_l1_loss, try_mse_loss, try_nll_loss, BceOptions, BceWithLogitsOptions, CrossEntropyOptions,
    LossError, NllLossOptions, Reduction,
};
use serde::Deserialize;

const REDUCTIONS: [Reduction; 3] = [Reduction::None, Reduction::Mean, Reduction::Sum];
const LOSSES: [&str; 6] =
    ["nll_loss", "cross_entropy", "mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"];

// ---------------------------------------------------------------------------------------
// Golden values from PyTorch
// ---------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct Fixture {
    torch_version: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    loss: String,
    reduction: String,
    input: Array,
    target: Array,
    weight: Option<Array>,
    pos_weight: Option<Array>,
    ignore_index: Option<i64>,
    label_smoothing: Option<f64>,
    expected: Array,
    /// For reduction "none": the weights of `(loss * output_weights).sum()`, whose
    /// gradient is recorded.
    output_weights: Option<Array>,
    grad_input: Array,
    grad_target: Option<Array>,
}

fn fixture() -> Fixture {
    serde_json::from_str(include_str!("fixtures/losses.json")).expect("fixtures/losses.json is valid")
}

fn reduction(name: &str) -> Reduction {
    match name {
        "none" => Reduction::None,
        "mean" => Reduction::Mean,
        "sum" => Reduction::Sum,
        other => panic!("unknown reduction {other:?}"),
    }
}

/// The loss of `case` in `dtype`, with the input (and a float target) as leaves that
/// require grad, after the backward pass the fixture recorded.
fn run(case: &Case, dtype: DType) -> (Tensor, Tensor, Tensor) {
    let input = case.input.tensor(dtype).requires_grad_(true);
    let class_loss = matches!(case.loss.as_str(), "nll_loss" | "cross_entropy");
    let target =
        if class_loss { case.target.tensor(DType::I64) } else { case.target.tensor(dtype).requires_grad_(true) };
    let weight = case.weight.as_ref().map(|w| w.tensor(dtype));
    let pos_weight = case.pos_weight.as_ref().map(|w| w.tensor(dtype));
    let reduction = reduction(&case.reduction);
    let ignore_index = case.ignore_index.unwrap_or(-100);
    let loss = match case.loss.as_str() {
        "nll_loss" => nll_loss_with(&input, &target, &NllLossOptions { weight, ignore_index, reduction }),
        "cross_entropy" => {
            let label_smoothing = case.label_smoothing.unwrap_or(0.0);
            cross_entropy_with(
                &input,
                &target,
                &CrossEntropyOptions { weight, ignore_index, label_smoothing, reduction },
            )
        }
        "mse_loss" => mse_loss_with(&input, &target, reduction),
        "l1_loss" => l1_loss_with(&input, &target, reduction),
        "binary_cross_entropy" => binary_cross_entropy_with(&input, &target, &BceOptions { weight, reduction }),
        "binary_cross_entropy_with_logits" => binary_cross_entropy_with_logits_with(
            &input,
            &target,
            &BceWithLogitsOptions { weight, pos_weight, reduction },
        ),
        other => panic!("unknown loss {other:?}"),
    };
    match &case.output_weights {
        Some(w) => loss.mul(&w.tensor(dtype)).sum().backward(),
        None => loss.backward(),
    }
    (loss, input, target)
}

/// `|got - want| <= rtol |want| + atol` elementwise, with the same shape.
#[track_caller]
fn assert_close(case: &str, what: &str, got: &Tensor, want: &Array, rtol: f64, atol: f64) {
    assert_eq!(got.shape(), want.shape, "{case}: {what} shape");
    for (i, (g, w)) in got.to_vec::<f64>().iter().zip(&want.data).enumerate() {
        assert!((g - w).abs() <= rtol * w.abs() + atol, "{case}: {what}[{i}] is {g}, PyTorch gives {w}");
    }
}

/// Checks every fixture case of `loss` in `dtype`: the value, the input's gradient, and
/// a float target's gradient.
fn check_against_pytorch(loss: &str, dtype: DType, rtol: f64, atol: f64) {
    let fixture = fixture();
    let cases: Vec<&Case> = fixture.cases.iter().filter(|c| c.loss == loss).collect();
    assert!(!cases.is_empty(), "no fixture cases for {loss}");
    for case in cases {
        let (value, input, target) = run(case, dtype);
        assert_eq!(value.dtype(), dtype, "{}: loss dtype", case.name);
        assert_close(&case.name, "loss", &value, &case.expected, rtol, atol);
        assert_close(&case.name, "input grad", &input.grad().expect("input grad"), &case.grad_input, rtol, atol);
        if let Some(want) = &case.grad_target {
            assert_close(&case.name, "target grad", &target.grad().expect("target grad"), want, rtol, atol);
        }
    }
}

/// Tolerances in f64: 1e-6 relative, with an absolute floor far below any value's
/// scale for entries PyTorch computes as a cancellation near 0.
const RTOL: f64 = 1e-6;
const ATOL: f64 = 1e-12;

#[test]
fn nll_loss_matches_pytorch() {
    check_against_pytorch("nll_loss", DType::F64, RTOL, ATOL);
}

#[test]
fn cross_entropy_matches_pytorch() {
    check_against_pytorch("cross_entropy", DType::F64, RTOL, ATOL);
}

#[test]
fn mse_loss_matches_pytorch() {
    check_against_pytorch("mse_loss", DType::F64, RTOL, ATOL);
}

#[test]
fn l1_loss_matches_pytorch() {
    check_against_pytorch("l1_loss", DType::F64, RTOL, ATOL);
}

#[test]
fn binary_cross_entropy_matches_pytorch() {
    check_against_pytorch("binary_cross_entropy", DType::F64, RTOL, ATOL);
}

#[test]
fn binary_cross_entropy_with_logits_matches_pytorch() {
    check_against_pytorch("binary_cross_entropy_with_logits", DType::F64, RTOL, ATOL);
}

/// The same cases in f32, the compute default, to f32 accuracy.
#[test]
fn every_loss_matches_pytorch_in_f32() {
    for loss in LOSSES {
        check_against_pytorch(loss, DType::F32, 1e-4, 1e-6);
    }
}

/// The fixture exercises every loss under every reduction, and every option.
#[test]
fn fixture_covers_every_loss_reduction_and_option() {
    let fixture = fixture();
    assert!(fixture.torch_version.starts_with('2'), "fixtures come from torch 2.x, got {}", fixture.torch_version);
    let has = |loss: &str, pred: &dyn Fn(&Case) -> bool| {
        REDUCTIONS
            .iter()
            .all(|&r| fixture.cases.iter().any(|c| c.loss == loss && reduction(&c.reduction) == r && pred(c)))
    };
    for loss in LOSSES {
        assert!(has(loss, &|_| true), "{loss}: a reduction is missing");
    }
    for loss in ["nll_loss", "cross_entropy"] {
        assert!(has(loss, &|c| c.weight.is_some()), "{loss}: class weights");
        assert!(has(loss, &|c| c.ignore_index.is_some_and(|i| c.target.data.contains(&(i as f64)))), "{loss}: ignored");
        assert!(has(loss, &|c| c.input.shape.len() == 3), "{loss}: [N, C, d]");
        assert!(has(loss, &|c| c.input.shape.len() == 4), "{loss}: [N, C, d1, d2]");
        assert!(has(loss, &|c| c.input.shape.len() == 1), "{loss}: unbatched [C]");
    }
    assert!(has("cross_entropy", &|c| c.label_smoothing.is_some() && c.weight.is_some() && c.ignore_index.is_some()));
    assert!(has("binary_cross_entropy", &|c| c.weight.is_some()));
    assert!(has("binary_cross_entropy_with_logits", &|c| c.weight.is_some() && c.pos_weight.is_some()));
}

// ---------------------------------------------------------------------------------------
// Gradient checks (central differences in f64)
// ---------------------------------------------------------------------------------------

/// Deterministic, irregular values in `(lo, hi)` (no global RNG: tests run in parallel).
fn values(shape: &[usize], seed: f64, lo: f64, hi: f64) -> Tensor {
    let n = shape.iter().product();
    let v = (0..n).map(|i| lo + (hi - lo) * ((i as f64 + seed) * 0.618_033_988_749_895).fract()).collect();
    Tensor::from_vec::<f64>(v, shape)
}

fn classes(values: &[i64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(values.to_vec(), shape)
}

#[test]
fn nll_loss_and_cross_entropy_pass_gradcheck() {
    let weight = Some(Tensor::from_vec(vec![0.5f64, 2.0, 1.0, 1.5], &[4]));
    let cases = [
        (values(&[5, 4], 0.3, -2.0, 2.0), classes(&[0, 3, -100, 1, 2], &[5]), weight.clone(), 0.2),
        (values(&[2, 4, 3], 0.7, -2.0, 2.0), classes(&[3, 0, 1, 2, -100, 2], &[2, 3]), weight, 0.1),
        (values(&[4], 0.1, -2.0, 2.0), classes(&[2], &[]), None, 0.3),
    ];
    for (x, y, weight, label_smoothing) in cases {
        for reduction in REDUCTIONS {
            let x = [x.requires_grad_(true)];
            let nll = NllLossOptions { weight: weight.clone(), reduction, ..Default::default() };
            gradcheck(|t| nll_loss_with(&t[0], &y, &nll), &x).unwrap();
            for label_smoothing in [0.0, label_smoothing] {
                let ce =
                    CrossEntropyOptions { weight: weight.clone(), label_smoothing, reduction, ..Default::default() };
                gradcheck(|t| cross_entropy_with(&t[0], &y, &ce), &x).unwrap();
            }
        }
    }
}

#[test]
fn regression_losses_pass_gradcheck_in_input_and_target() {
    let x = values(&[3, 4], 0.2, -2.0, 2.0).requires_grad_(true);
    let y = values(&[3, 4], 0.45, -2.0, 2.0).requires_grad_(true);
    for reduction in REDUCTIONS {
        gradcheck(|t| mse_loss_with(&t[0], &t[1], reduction), &[x.clone(), y.clone()]).unwrap();
        gradcheck(|t| l1_loss_with(&t[0], &t[1], reduction), &[x.clone(), y.clone()]).unwrap();
    }
}

#[test]
fn binary_cross_entropy_passes_gradcheck_in_input_and_target() {
    let x = values(&[3, 4], 0.2, 0.05, 0.95).requires_grad_(true);
    let y = values(&[3, 4], 0.45, 0.0, 1.0).requires_grad_(true);
    for weight in [None, Some(values(&[4], 0.9, 0.5, 2.0))] {
        for reduction in REDUCTIONS {
            let options = BceOptions { weight: weight.clone(), reduction };
            gradcheck(|t| binary_cross_entropy_with(&t[0], &t[1], &options), &[x.clone(), y.clone()]).unwrap();
        }
    }
}

#[test]
fn binary_cross_entropy_with_logits_passes_gradcheck_in_input_and_target() {
    let x = values(&[3, 4], 0.2, -6.0, 6.0).requires_grad_(true);
    let y = values(&[3, 4], 0.45, 0.0, 1.0).requires_grad_(true);
    let options = [
        (None, None),
        (Some(values(&[3, 1], 0.9, 0.5, 2.0)), None),
        (None, Some(values(&[4], 0.3, 0.2, 4.0))),
        (Some(values(&[3, 4], 0.9, 0.5, 2.0)), Some(values(&[4], 0.3, 0.2, 4.0))),
    ];
    for (weight, pos_weight) in options {
        for reduction in REDUCTIONS {
            let options = BceWithLogitsOptions { weight: weight.clone(), pos_weight: pos_weight.clone(), reduction };
            gradcheck(|t| binary_cross_entropy_with_logits_with(&t[0], &t[1], &options), &[x.clone(), y.clone()])
                .unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------
// Behaviour at the edges
// ---------------------------------------------------------------------------------------

#[test]
fn defaults_are_pytorchs() {
    let ce = CrossEntropyOptions::default();
    assert_eq!((ce.ignore_index, ce.label_smoothing, ce.reduction), (-100, 0.0, Reduction::Mean));
    assert!(ce.weight.is_none());
    let nll = NllLossOptions::default();
    assert_eq!((nll.ignore_index, nll.reduction), (-100, Reduction::Mean));
    assert_eq!(Reduction::default(), Reduction::Mean);
    assert_eq!(BceOptions::default().reduction, Reduction::Mean);
    assert!(BceWithLogitsOptions::default().pos_weight.is_none());
}

#[test]
fn short_forms_use_the_defaults() {
    let logits = values(&[3, 4], 0.1, -2.0, 2.0);
    let y = classes(&[1, -100, 3], &[3]);
    let logp = logits.log_softmax(1);
    assert_eq!(cross_entropy(&logits, &y).item(), cross_entropy_with(&logits, &y, &Default::default()).item());
    assert_eq!(nll_loss(&logp, &y).item(), nll_loss_with(&logp, &y, &Default::default()).item());
    assert!((cross_entropy(&logits, &y).item() - nll_loss(&logp, &y).item()).abs() < 1e-15);
    let (x, t) = (values(&[5], 0.2, 0.1, 0.9), values(&[5], 0.7, 0.0, 1.0));
    assert_eq!(mse_loss(&x, &t).item(), mse_loss_with(&x, &t, Reduction::Mean).item());
    assert_eq!(l1_loss(&x, &t).item(), l1_loss_with(&x, &t, Reduction::Mean).item());
    assert_eq!(binary_cross_entropy(&x, &t).item(), binary_cross_entropy_with(&x, &t, &Default::default()).item());
    assert_eq!(
        binary_cross_entropy_with_logits(&x, &t).item(),
        binary_cross_entropy_with_logits_with(&x, &t, &Default::default()).item()
    );
}

/// As PyTorch: the mean over no counted targets is 0 / 0, the sum is 0.
#[test]
fn all_targets_ignored_gives_nan_mean_and_zero_sum() {
    let x = values(&[2, 3], 0.1, -2.0, 2.0).requires_grad_(true);
    let y = classes(&[-100, -100], &[2]);
    assert!(cross_entropy(&x, &y).item().is_nan());
    let sum = CrossEntropyOptions { reduction: Reduction::Sum, ..Default::default() };
    let loss = cross_entropy_with(&x, &y, &sum);
    assert_eq!(loss.item(), 0.0);
    loss.backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![0.0; 6]);
}

/// An ignored target's log-probability may be -inf (a log of 0) without poisoning the
/// loss or the gradient.
#[test]
fn ignored_targets_do_not_read_their_row() {
    let x = Tensor::from_vec(vec![f64::NEG_INFINITY, 0.0, -1.0, -0.5], &[2, 2]).requires_grad_(true);
    let loss = nll_loss(&x, &classes(&[-100, 1], &[2]));
    assert_eq!(loss.item(), 0.5);
    loss.backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![0.0, 0.0, 0.0, -1.0]);
}

/// Probabilities of exactly 0 and 1 give PyTorch's clamped losses (log floored at -100)
/// and finite gradients. The gradients are those of the clamped formula (0 where a log is
/// clamped); PyTorch's fused kernel gives `(x - y) / max(x (1 - x), 1e-12)` here, i.e.
/// `[-1e12, 1e12, 0, 0]`.
#[test]
fn binary_cross_entropy_is_finite_at_saturated_inputs() {
    let x = Tensor::from_vec(vec![0.0f32, 1.0, 0.0, 1.0], &[4]).requires_grad_(true);
    let y = Tensor::from_vec(vec![1.0f32, 0.0, 0.0, 1.0], &[4]);
    let options = BceOptions { reduction: Reduction::None, ..Default::default() };
    let loss = binary_cross_entropy_with(&x, &y, &options);
    assert_eq!(loss.to_vec::<f32>(), vec![100.0, 100.0, 0.0, 0.0]);
    loss.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![0.0, 0.0, 1.0, -1.0]);
}

/// Logits far beyond exp's range in f32 still give exact losses and `σ(x) - y` gradients.
#[test]
fn binary_cross_entropy_with_logits_is_stable_for_huge_logits() {
    let x = Tensor::from_vec(vec![-1000.0f32, 1000.0, -1000.0, 1000.0], &[4]).requires_grad_(true);
    let y = Tensor::from_vec(vec![0.0f32, 1.0, 1.0, 0.0], &[4]);
    let options = BceWithLogitsOptions { reduction: Reduction::None, ..Default::default() };
    let loss = binary_cross_entropy_with_logits_with(&x, &y, &options);
    assert_eq!(loss.to_vec::<f32>(), vec![0.0, 0.0, 1000.0, 1000.0]);
    loss.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![0.0, 0.0, -1.0, 1.0]);
}

/// Float targets and weights in another float dtype are converted to the input's.
#[test]
fn float_arguments_take_the_inputs_dtype() {
    let x = values(&[2, 3], 0.3, 0.1, 0.9).float().requires_grad_(true);
    let y = values(&[2, 3], 0.6, 0.0, 1.0);
    let w = Some(values(&[3], 0.2, 0.5, 1.5));
    assert_eq!(mse_loss(&x, &y).dtype(), DType::F32);
    assert_eq!(
        binary_cross_entropy_with(&x, &y, &BceOptions { weight: w.clone(), ..Default::default() }).dtype(),
        DType::F32
    );
    let ce = CrossEntropyOptions { weight: w, label_smoothing: 0.1, ..Default::default() };
    let loss = cross_entropy_with(&x, &classes(&[0, 2], &[2]), &ce);
    assert_eq!(loss.dtype(), DType::F32);
    loss.backward();
    assert_eq!(x.grad().unwrap().dtype(), DType::F32);
}

// ---------------------------------------------------------------------------------------
// Validation: each rule, under each reduction, panicking and `try_`
// ---------------------------------------------------------------------------------------

fn logp(shape: &[usize]) -> Tensor {
    values(shape, 0.5, -3.0, -0.1)
}

fn nll(reduction: Reduction) -> NllLossOptions {
    NllLossOptions { reduction, ..Default::default() }
}

fn ce(reduction: Reduction) -> CrossEntropyOptions {
    CrossEntropyOptions { reduction, ..Default::default() }
}

fn bce(reduction: Reduction) -> BceOptions {
    BceOptions { reduction, ..Default::default() }
}

fn bcel(reduction: Reduction) -> BceWithLogitsOptions {
    BceWithLogitsOptions { reduction, ..Default::default() }
}

/// `name: panicking / fallible, |r| (args...), "message", ErrorPattern,` makes a module
/// with one `#[should_panic]` test per reduction for the panicking form, and a test that
/// the `try_` form returns an error matching the pattern, with the same message, under
/// every reduction.
macro_rules! rejects {
    ($($name:ident: $panicking:ident / $fallible:ident, |$r:ident| ($($arg:expr),*), $expected:literal, $err:pat,)*) => {$(
        mod $name {
            use super::*;

            #[test]
            #[should_panic(expected = $expected)]
            fn panics_with_reduction_none() {
                let $r = Reduction::None;
                let _ = $panicking($($arg),*);
            }

            #[test]
            #[should_panic(expected = $expected)]
            fn panics_with_reduction_mean() {
                let $r = Reduction::Mean;
                let _ = $panicking($($arg),*);
            }

            #[test]
            #[should_panic(expected = $expected)]
            fn panics_with_reduction_sum() {
                let $r = Reduction::Sum;
                let _ = $panicking($($arg),*);
            }

            #[test]
            fn try_form_returns_the_error() {
                for $r in REDUCTIONS {
                    let err = $fallible($($arg),*).expect_err("bad arguments must be rejected");
                    assert!(matches!(err, $err), "{:?}: wrong variant {err:?}", $r);
                    assert!(err.to_string().contains($expected), "{:?}: message {err}", $r);
                }
            }
        }
    )*};
}

rejects! {
    nll_target_above_range: nll_loss_with / try_nll_loss,
        |r| (&logp(&[4, 10]), &classes(&[0, 3, 9, 12], &[4]), &nll(r)),
        "nll_loss: target 12 at position [3] is out of range [0, 10) (ignore_index = -100)",
        LossError::TargetOutOfRange { op: "nll_loss", value: 12, classes: 10, ignore_index: -100, .. },
    nll_negative_target: nll_loss_with / try_nll_loss,
        |r| (&logp(&[3, 5]), &classes(&[0, -1, -100], &[3]), &nll(r)),
        "nll_loss: target -1 at position [1] is out of range [0, 5) (ignore_index = -100)",
        LossError::TargetOutOfRange { value: -1, .. },
    nll_bad_target_in_spatial_position: nll_loss_with / try_nll_loss,
        |r| (&logp(&[2, 3, 2, 2]), &classes(&[0, 1, 2, 0, 1, 2, 0, 3], &[2, 2, 2]), &nll(r)),
        "nll_loss: target 3 at position [1, 1, 1] is out of range [0, 3)",
        LossError::TargetOutOfRange { value: 3, classes: 3, .. },
    nll_default_ignore_index_is_not_valid_with_custom_one: nll_loss_with / try_nll_loss,
        |r| (&logp(&[2, 4]), &classes(&[1, -100], &[2]), &NllLossOptions { ignore_index: 0, reduction: r, ..Default::default() }),
        "nll_loss: target -100 at position [1] is out of range [0, 4) (ignore_index = 0)",
        LossError::TargetOutOfRange { value: -100, ignore_index: 0, .. },
    nll_target_shape: nll_loss_with / try_nll_loss,
        |r| (&logp(&[4, 10]), &classes(&[0, 1, 2, 3], &[4, 1]), &nll(r)),
        "nll_loss: target of shape [4, 1] does not match input of shape [4, 10] (expected target shape [4])",
        LossError::ShapeMismatch { op: "nll_loss", .. },
    nll_target_dtype: nll_loss_with / try_nll_loss,
        |r| (&logp(&[2, 3]), &Tensor::from_vec(vec![0.0f32, 1.0], &[2]), &nll(r)),
        "nll_loss: target must be i64 class indices, got f32",
        LossError::DType { arg: "target", got: DType::F32, .. },
    nll_input_dtype: nll_loss_with / try_nll_loss,
        |r| (&classes(&[0, 1, 1, 0], &[2, 2]), &classes(&[0, 1], &[2]), &nll(r)),
        "nll_loss: input must be floating point, got i64",
        LossError::DType { arg: "input", got: DType::I64, .. },
    nll_scalar_input: nll_loss_with / try_nll_loss,
        |r| (&Tensor::from_vec(vec![-0.5f64], &[]), &classes(&[0], &[]), &nll(r)),
        "nll_loss: input must have a class dim",
        LossError::MissingClassDim { op: "nll_loss" },
    nll_weight_shape: nll_loss_with / try_nll_loss,
        |r| (&logp(&[4, 10]), &classes(&[0, 1, 2, 3], &[4]),
             &NllLossOptions { weight: Some(Tensor::ones(&[5])), reduction: r, ..Default::default() }),
        "nll_loss: weight of shape [5] must have shape [10] (one entry per class of the input)",
        LossError::ClassWeightShape { classes: 10, .. },
    ce_target_above_range: cross_entropy_with / try_cross_entropy,
        |r| (&values(&[4, 10], 0.1, -2.0, 2.0), &classes(&[0, 3, 9, 12], &[4]), &ce(r)),
        "cross_entropy: target 12 at position [3] is out of range [0, 10) (ignore_index = -100)",
        LossError::TargetOutOfRange { op: "cross_entropy", value: 12, .. },
    ce_bad_target_with_smoothing_and_weight: cross_entropy_with / try_cross_entropy,
        |r| (&values(&[2, 3, 2], 0.1, -2.0, 2.0), &classes(&[0, 1, 2, -7], &[2, 2]),
             &CrossEntropyOptions { weight: Some(Tensor::ones(&[3]).double()), label_smoothing: 0.1, reduction: r,
                                    ..Default::default() }),
        "cross_entropy: target -7 at position [1, 1] is out of range [0, 3) (ignore_index = -100)",
        LossError::TargetOutOfRange { value: -7, .. },
    ce_target_shape: cross_entropy_with / try_cross_entropy,
        |r| (&values(&[2, 3, 4], 0.1, -2.0, 2.0), &classes(&[0; 6], &[2, 3]), &ce(r)),
        "cross_entropy: target of shape [2, 3] does not match input of shape [2, 3, 4] (expected target shape [2, 4])",
        LossError::ShapeMismatch { op: "cross_entropy", .. },
    ce_target_dtype: cross_entropy_with / try_cross_entropy,
        |r| (&values(&[2, 3], 0.1, -2.0, 2.0), &values(&[2, 3], 0.2, 0.0, 1.0), &ce(r)),
        "cross_entropy: target must be i64 class indices, got f64",
        LossError::DType { arg: "target", .. },
    ce_weight_shape: cross_entropy_with / try_cross_entropy,
        |r| (&values(&[2, 3], 0.1, -2.0, 2.0), &classes(&[0, 1], &[2]),
             &CrossEntropyOptions { weight: Some(Tensor::ones(&[2, 3])), reduction: r, ..Default::default() }),
        "cross_entropy: weight of shape [2, 3] must have shape [3]",
        LossError::ClassWeightShape { .. },
    ce_label_smoothing_range: cross_entropy_with / try_cross_entropy,
        |r| (&values(&[2, 3], 0.1, -2.0, 2.0), &classes(&[0, 1], &[2]),
             &CrossEntropyOptions { label_smoothing: 1.5, reduction: r, ..Default::default() }),
        "cross_entropy: label_smoothing must be in [0, 1], got 1.5",
        LossError::LabelSmoothing { .. },
    mse_shape: mse_loss_with / try_mse_loss,
        |r| (&values(&[4, 1], 0.1, -1.0, 1.0), &values(&[4], 0.2, -1.0, 1.0), r),
        "mse_loss: target of shape [4] does not match input of shape [4, 1]",
        LossError::ShapeMismatch { op: "mse_loss", .. },
    mse_target_dtype: mse_loss_with / try_mse_loss,
        |r| (&values(&[2], 0.1, -1.0, 1.0), &classes(&[0, 1], &[2]), r),
        "mse_loss: target must be floating point, got i64",
        LossError::DType { arg: "target", .. },
    l1_shape: l1_loss_with / try_l1_loss,
        |r| (&values(&[2, 3], 0.1, -1.0, 1.0), &values(&[3, 2], 0.2, -1.0, 1.0), r),
        "l1_loss: target of shape [3, 2] does not match input of shape [2, 3]",
        LossError::ShapeMismatch { op: "l1_loss", .. },
    l1_target_dtype: l1_loss_with / try_l1_loss,
        |r| (&values(&[2], 0.1, -1.0, 1.0), &classes(&[0, 1], &[2]), r),
        "l1_loss: target must be floating point, got i64",
        LossError::DType { .. },
    bce_target_above_one: binary_cross_entropy_with / try_binary_cross_entropy,
        |r| (&values(&[2, 2], 0.1, 0.1, 0.9), &Tensor::from_vec(vec![0.0f64, 1.0, 1.5, 0.5], &[2, 2]), &bce(r)),
        "binary_cross_entropy: target 1.5 at position [1, 0] is out of range [0, 1]",
        LossError::NotAProbability { arg: "target", .. },
    bce_target_nan: binary_cross_entropy_with / try_binary_cross_entropy,
        |r| (&values(&[3], 0.1, 0.1, 0.9), &Tensor::from_vec(vec![0.0f64, f64::NAN, 2.0], &[3]), &bce(r)),
        "binary_cross_entropy: target NaN at position [1] is out of range [0, 1]",
        LossError::NotAProbability { arg: "target", .. },
    bce_input_not_probability: binary_cross_entropy_with / try_binary_cross_entropy,
        |r| (&Tensor::from_vec(vec![0.5f64, -0.5, 0.2], &[3]), &values(&[3], 0.2, 0.0, 1.0), &bce(r)),
        "binary_cross_entropy: input -0.5 at position [1] is out of range [0, 1] (the input must be probabilities",
        LossError::NotAProbability { arg: "input", .. },
    bce_shape: binary_cross_entropy_with / try_binary_cross_entropy,
        |r| (&values(&[4, 1], 0.1, 0.1, 0.9), &values(&[4], 0.2, 0.0, 1.0), &bce(r)),
        "binary_cross_entropy: target of shape [4] does not match input of shape [4, 1]",
        LossError::ShapeMismatch { .. },
    bce_weight_shape: binary_cross_entropy_with / try_binary_cross_entropy,
        |r| (&values(&[2, 4], 0.1, 0.1, 0.9), &values(&[2, 4], 0.2, 0.0, 1.0),
             &BceOptions { weight: Some(values(&[3], 0.3, 0.5, 1.0)), reduction: r }),
        "binary_cross_entropy: weight of shape [3] cannot be broadcast to input shape [2, 4]",
        LossError::NotBroadcastable { arg: "weight", .. },
    bce_logits_target_below_zero: binary_cross_entropy_with_logits_with / try_binary_cross_entropy_with_logits,
        |r| (&values(&[3], 0.1, -3.0, 3.0), &Tensor::from_vec(vec![1.0f64, -0.25, 0.0], &[3]), &bcel(r)),
        "binary_cross_entropy_with_logits: target -0.25 at position [1] is out of range [0, 1]",
        LossError::NotAProbability { op: "binary_cross_entropy_with_logits", arg: "target", .. },
    bce_logits_shape: binary_cross_entropy_with_logits_with / try_binary_cross_entropy_with_logits,
        |r| (&values(&[2, 3], 0.1, -3.0, 3.0), &values(&[6], 0.2, 0.0, 1.0), &bcel(r)),
        "binary_cross_entropy_with_logits: target of shape [6] does not match input of shape [2, 3]",
        LossError::ShapeMismatch { .. },
    bce_logits_weight_shape: binary_cross_entropy_with_logits_with / try_binary_cross_entropy_with_logits,
        |r| (&values(&[2, 3], 0.1, -3.0, 3.0), &values(&[2, 3], 0.2, 0.0, 1.0),
             &BceWithLogitsOptions { weight: Some(values(&[2], 0.3, 0.5, 1.0)), reduction: r, ..Default::default() }),
        "binary_cross_entropy_with_logits: weight of shape [2] cannot be broadcast to input shape [2, 3]",
        LossError::NotBroadcastable { arg: "weight", .. },
    bce_logits_pos_weight_shape: binary_cross_entropy_with_logits_with / try_binary_cross_entropy_with_logits,
        |r| (&values(&[2, 3], 0.1, -3.0, 3.0), &values(&[2, 3], 0.2, 0.0, 1.0),
             &BceWithLogitsOptions { pos_weight: Some(values(&[4, 2, 3], 0.3, 0.5, 1.0)), reduction: r,
                                     ..Default::default() }),
        "binary_cross_entropy_with_logits: pos_weight of shape [4, 2, 3] cannot be broadcast to input shape [2, 3]",
        LossError::NotBroadcastable { arg: "pos_weight", .. },
}

/// The error carries the bad value, its position and the valid range as data.
#[test]
fn target_errors_carry_value_position_and_range() {
    let err = try_cross_entropy(&values(&[4, 10], 0.1, -2.0, 2.0), &classes(&[0, 3, 9, 12], &[4]), &ce(Reduction::Sum))
        .unwrap_err();
    assert_eq!(
        err,
        LossError::TargetOutOfRange {
            op: "cross_entropy",
            value: 12,
            position: vec![3],
            classes: 10,
            ignore_index: -100
        }
    );
    let y = Tensor::from_vec(vec![0.0f64, 1.0, 0.5, 0.25, 1.0, 1.25], &[2, 3]);
    let err = try_binary_cross_entropy(&values(&[2, 3], 0.1, 0.1, 0.9), &y, &bce(Reduction::None)).unwrap_err();
    assert_eq!(
        err,
        LossError::NotAProbability { op: "binary_cross_entropy", arg: "target", value: 1.25, position: vec![1, 2] }
    );
}

/// The first bad target in row-major order is the one reported.
#[test]
fn the_first_bad_target_is_reported() {
    let y = classes(&[0, 7, 1, -3], &[2, 2]);
    let err = try_nll_loss(&logp(&[2, 3, 2]), &y, &nll(Reduction::Mean)).unwrap_err();
    assert!(matches!(err, LossError::TargetOutOfRange { value: 7, ref position, .. } if position == &[0, 1]));
}
