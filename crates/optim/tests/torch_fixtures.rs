//! Optimizer steps and scheduler rates against PyTorch's, from the golden files written by
//! `tools/fixtures/gen_optim.py`: same initial parameters, same gradients (one step leaves
//! a parameter without a gradient), parameters and learning rates compared after every step.

use std::collections::BTreeMap;

use nabla_autograd::{DType, NdArray, Tensor};
use nabla_optim::{
    Adagrad, AdagradConfig, Adam, AdamConfig, AdamW, AdamWConfig, CosineAnnealingLR, ExponentialLR, LrScheduler,
    Optimizer, PlateauMode, RMSprop, RMSpropConfig, ReduceLROnPlateau, SgdConfig, StepLR, ThresholdMode, SGD,
};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Fixture {
    torch_version: String,
    shapes: Vec<Vec<usize>>,
    init: Vec<Vec<f64>>,
    grads: Vec<Vec<Option<Vec<f64>>>>,
    /// The SGD options schedulers drive (schedulers.json only).
    #[serde(default)]
    optimizer: BTreeMap<String, f64>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    #[serde(alias = "scheduler")]
    optimizer: String,
    options: BTreeMap<String, Value>,
    /// Per step, per parameter, the flattened values after the step.
    params: Vec<Vec<Vec<f64>>>,
    lrs: Vec<f64>,
    metrics: Option<Vec<f64>>,
}

impl Case {
    fn f64(&self, key: &str) -> Option<f64> {
        self.options.get(key).map(|v| v.as_f64().unwrap_or_else(|| panic!("{}: {key} is not a number", self.name)))
    }

    fn bool(&self, key: &str) -> Option<bool> {
        self.options.get(key).map(|v| v.as_bool().unwrap_or_else(|| panic!("{}: {key} is not a bool", self.name)))
    }

    fn str(&self, key: &str) -> Option<&str> {
        self.options.get(key).map(|v| v.as_str().unwrap_or_else(|| panic!("{}: {key} is not a string", self.name)))
    }

    fn betas(&self, default: (f64, f64)) -> (f64, f64) {
        self.options.get("betas").map_or(default, |v| (v[0].as_f64().unwrap(), v[1].as_f64().unwrap()))
    }
}

fn load(file: &str) -> Fixture {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let fixture: Fixture = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(fixture.torch_version.starts_with('2'), "fixtures from torch {}", fixture.torch_version);
    fixture
}

/// Leaf parameters holding the fixture's initial values in `dtype`.
fn params(fx: &Fixture, dtype: DType) -> Vec<Tensor> {
    let arrays = fx.init.iter().zip(&fx.shapes).map(|(v, s)| NdArray::from_slice(v, s).cast(dtype));
    arrays.map(|a| Tensor::new(a).requires_grad_(true)).collect()
}

/// (relative, absolute) tolerances: the required 1e-6 relative in f64 (the runs agree to
/// ~1e-13, PyTorch's fused multiply-adds aside); f32 runs agree to ~1e-5.
fn tolerance(dtype: DType) -> (f64, f64) {
    match dtype {
        DType::F64 => (1e-6, 1e-12),
        _ => (5e-5, 5e-6),
    }
}

fn assert_close(what: &str, got: &[f64], want: &[f64], (rtol, atol): (f64, f64)) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= rtol * w.abs() + atol, "{what}[{i}]: got {g}, PyTorch {w} (diff {:e})", g - w);
    }
}

/// Feeds the fixture's gradients to `opt` over `params`; after each step calls `after`
/// and compares the parameters, and the change each step made, with PyTorch's.
fn replay(
    fx: &Fixture,
    case: &Case,
    dtype: DType,
    params: &[Tensor],
    opt: &mut dyn Optimizer,
    mut after: impl FnMut(usize, &mut dyn Optimizer),
) {
    let tol = tolerance(dtype);
    let mut prev: Vec<Vec<f64>> = fx.init.clone();
    for (k, step_grads) in fx.grads.iter().enumerate() {
        for ((p, g), shape) in params.iter().zip(step_grads).zip(&fx.shapes) {
            p.set_grad(g.as_ref().map(|g| NdArray::from_slice(g, shape).cast(dtype)));
        }
        opt.step();
        after(k, opt);
        for (i, p) in params.iter().enumerate() {
            let (got, want) = (p.to_vec::<f64>(), &case.params[k][i]);
            let what = format!("{} ({dtype}) step {} param {i}", case.name, k + 1);
            assert_close(&what, &got, want, tol);
            // Deltas too: an update that is a small part of the value must still be right.
            let delta = |now: &[f64]| now.iter().zip(&prev[i]).map(|(a, b)| a - b).collect::<Vec<_>>();
            assert_close(&format!("{what} update"), &delta(&got), &delta(want), tol);
        }
        prev = case.params[k].clone();
    }
}

/// The optimizer a case describes, built from its config struct (missing options take
/// the struct's `Default`, so this checks the defaults against PyTorch's too); the
/// builder options must produce the same config.
fn optimizer(case: &Case, params: &[Tensor]) -> Box<dyn Optimizer> {
    let p = || params.to_vec();
    match case.optimizer.as_str() {
        "SGD" => {
            let d = SgdConfig::default();
            let c = SgdConfig {
                lr: case.f64("lr").unwrap_or(d.lr),
                momentum: case.f64("momentum").unwrap_or(d.momentum),
                dampening: case.f64("dampening").unwrap_or(d.dampening),
                weight_decay: case.f64("weight_decay").unwrap_or(d.weight_decay),
                nesterov: case.bool("nesterov").unwrap_or(d.nesterov),
            };
            let built = SGD::new(p(), c.lr)
                .momentum(c.momentum)
                .dampening(c.dampening)
                .nesterov(c.nesterov)
                .weight_decay(c.weight_decay);
            assert_eq!(built.config(), &c);
            Box::new(SGD::try_new(p(), c).unwrap())
        }
        "Adam" => {
            let d = AdamConfig::default();
            let c = AdamConfig {
                lr: case.f64("lr").unwrap_or(d.lr),
                betas: case.betas(d.betas),
                eps: case.f64("eps").unwrap_or(d.eps),
                weight_decay: case.f64("weight_decay").unwrap_or(d.weight_decay),
                amsgrad: case.bool("amsgrad").unwrap_or(d.amsgrad),
                decoupled_weight_decay: false,
            };
            let built = Adam::new(p(), c.lr).betas(c.betas.0, c.betas.1).eps(c.eps).weight_decay(c.weight_decay);
            assert_eq!(built.amsgrad(c.amsgrad).config(), &c);
            Box::new(Adam::try_new(p(), c).unwrap())
        }
        "AdamW" => {
            let d = AdamWConfig::default();
            let c = AdamWConfig {
                lr: case.f64("lr").unwrap_or(d.lr),
                betas: case.betas(d.betas),
                eps: case.f64("eps").unwrap_or(d.eps),
                weight_decay: case.f64("weight_decay").unwrap_or(d.weight_decay),
                amsgrad: case.bool("amsgrad").unwrap_or(d.amsgrad),
            };
            let built = AdamW::new(p(), c.lr).betas(c.betas.0, c.betas.1).eps(c.eps).weight_decay(c.weight_decay);
            let built = built.amsgrad(c.amsgrad);
            let expected = AdamConfig {
                lr: c.lr,
                betas: c.betas,
                eps: c.eps,
                weight_decay: c.weight_decay,
                amsgrad: c.amsgrad,
                decoupled_weight_decay: true,
            };
            assert_eq!(built.config(), &expected);
            Box::new(AdamW::try_new(p(), c).unwrap())
        }
        "RMSprop" => {
            let d = RMSpropConfig::default();
            let c = RMSpropConfig {
                lr: case.f64("lr").unwrap_or(d.lr),
                alpha: case.f64("alpha").unwrap_or(d.alpha),
                eps: case.f64("eps").unwrap_or(d.eps),
                weight_decay: case.f64("weight_decay").unwrap_or(d.weight_decay),
                momentum: case.f64("momentum").unwrap_or(d.momentum),
                centered: case.bool("centered").unwrap_or(d.centered),
            };
            let built = RMSprop::new(p(), c.lr).alpha(c.alpha).eps(c.eps).weight_decay(c.weight_decay);
            assert_eq!(built.momentum(c.momentum).centered(c.centered).config(), &c);
            Box::new(RMSprop::try_new(p(), c).unwrap())
        }
        "Adagrad" => {
            let d = AdagradConfig::default();
            let c = AdagradConfig {
                lr: case.f64("lr").unwrap_or(d.lr),
                lr_decay: case.f64("lr_decay").unwrap_or(d.lr_decay),
                weight_decay: case.f64("weight_decay").unwrap_or(d.weight_decay),
                initial_accumulator_value: case.f64("initial_accumulator_value").unwrap_or(d.initial_accumulator_value),
                eps: case.f64("eps").unwrap_or(d.eps),
            };
            let built = Adagrad::new(p(), c.lr).lr_decay(c.lr_decay).weight_decay(c.weight_decay).eps(c.eps);
            assert_eq!(built.initial_accumulator_value(c.initial_accumulator_value).config(), &c);
            Box::new(Adagrad::try_new(p(), c).unwrap())
        }
        other => panic!("{}: unknown optimizer {other}", case.name),
    }
}

fn check_optimizers(dtype: DType) {
    let fx = load("optimizers.json");
    assert_eq!(fx.cases.len(), 13);
    for case in &fx.cases {
        let params = params(&fx, dtype);
        let mut opt = optimizer(case, &params);
        replay(&fx, case, dtype, &params, opt.as_mut(), |k, opt| assert_eq!(opt.lr(), case.lrs[k]));
    }
}

#[test]
fn optimizers_match_pytorch_f64() {
    check_optimizers(DType::F64);
}

#[test]
fn optimizers_match_pytorch_f32() {
    check_optimizers(DType::F32);
}

/// A scheduler stepped once per epoch, or one stepped with the epoch's metric.
enum Scheduler {
    Epoch(Box<dyn LrScheduler>),
    Plateau(ReduceLROnPlateau),
}

fn scheduler(case: &Case, opt: &dyn Optimizer) -> Scheduler {
    let f = |key| case.f64(key).unwrap_or_else(|| panic!("{}: no {key}", case.name));
    match case.optimizer.as_str() {
        "StepLR" => Scheduler::Epoch(Box::new(StepLR::new(opt, f("step_size") as usize, f("gamma")))),
        "ExponentialLR" => Scheduler::Epoch(Box::new(ExponentialLR::new(opt, f("gamma")))),
        "CosineAnnealingLR" => {
            Scheduler::Epoch(Box::new(CosineAnnealingLR::new(opt, f("T_max") as usize).eta_min(f("eta_min"))))
        }
        "ReduceLROnPlateau" => {
            let mode = match case.str("mode") {
                Some("max") => PlateauMode::Max,
                _ => PlateauMode::Min,
            };
            let threshold_mode = match case.str("threshold_mode") {
                Some("abs") => ThresholdMode::Abs,
                _ => ThresholdMode::Rel,
            };
            let mut s = ReduceLROnPlateau::new(opt).mode(mode).threshold_mode(threshold_mode);
            s = s.factor(f("factor")).patience(f("patience") as usize).threshold(f("threshold"));
            if let Some(cooldown) = case.f64("cooldown") {
                s = s.cooldown(cooldown as usize);
            }
            if let Some(min_lr) = case.f64("min_lr") {
                s = s.min_lr(min_lr);
            }
            Scheduler::Plateau(s)
        }
        other => panic!("{}: unknown scheduler {other}", case.name),
    }
}

#[test]
fn schedulers_match_pytorch() {
    let fx: Fixture = load("schedulers.json");
    assert_eq!(fx.cases.len(), 5);
    for case in &fx.cases {
        let params = params(&fx, DType::F64);
        let mut opt = SGD::new(params.clone(), fx.optimizer["lr"]).momentum(fx.optimizer["momentum"]);
        let mut sched = scheduler(case, &opt);
        replay(&fx, case, DType::F64, &params, &mut opt, |k, opt| {
            let last = match &mut sched {
                Scheduler::Epoch(s) => {
                    s.step(opt);
                    s.get_last_lr()
                }
                Scheduler::Plateau(s) => {
                    s.step(case.metrics.as_ref().expect("plateau cases record metrics")[k], opt);
                    s.get_last_lr()
                }
            };
            // The recursive formulas are PyTorch's, evaluated in the same order (the rates
            // come out bit-identical; the tolerance only allows for another libm's cos).
            let what = format!("{} lr after epoch {}", case.name, k + 1);
            assert_close(&what, &[last, opt.lr()], &[case.lrs[k]; 2], (1e-15, 0.0));
        });
    }
}
