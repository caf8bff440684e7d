//! Invalid hyperparameters and parameters: PyTorch-like messages naming the value, as a
//! panic from `new` and the builder options, or as a typed error from `try_new`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use nabla_autograd::{no_grad, NdArray, Tensor};
use nabla_optim::{
    Adagrad, AdagradConfig, Adam, AdamConfig, AdamW, CosineAnnealingLR, ExponentialLR, OptimError, Optimizer, RMSprop,
    ReduceLROnPlateau, SgdConfig, StepLR, SGD,
};

fn params() -> Vec<Tensor> {
    vec![Tensor::zeros(&[2]).requires_grad_(true)]
}

/// The message `f` panics with.
fn panic_message<T>(f: impl FnOnce() -> T) -> String {
    let Err(err) = catch_unwind(AssertUnwindSafe(f)) else { panic!("expected a panic") };
    err.downcast_ref::<String>().cloned().or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string())).unwrap()
}

#[test]
fn invalid_hyperparameters_panic_naming_the_value() {
    assert_eq!(panic_message(|| SGD::new(params(), -0.1)), "SGD: Invalid learning rate: -0.1 (expected >= 0)");
    assert_eq!(panic_message(|| SGD::new(params(), f64::NAN)), "SGD: Invalid learning rate: NaN (expected >= 0)");
    assert_eq!(
        panic_message(|| SGD::new(params(), 0.1).momentum(-0.9)),
        "SGD: Invalid momentum value: -0.9 (expected >= 0)"
    );
    assert_eq!(
        panic_message(|| SGD::new(params(), 0.1).weight_decay(-1e-4)),
        "SGD: Invalid weight_decay value: -0.0001 (expected >= 0)"
    );
    assert_eq!(
        panic_message(|| SGD::new(params(), 0.1).nesterov(true)),
        "SGD: Nesterov momentum requires a momentum and zero dampening (got momentum 0, dampening 0)"
    );
    assert_eq!(
        panic_message(|| SGD::new(params(), 0.1).momentum(0.9).nesterov(true).dampening(0.1)),
        "SGD: Nesterov momentum requires a momentum and zero dampening (got momentum 0.9, dampening 0.1)"
    );
    assert_eq!(
        panic_message(|| Adam::new(params(), 1e-3).betas(1.0, 0.999)),
        "Adam: Invalid beta parameter at index 0: 1 (expected in [0, 1))"
    );
    assert_eq!(
        panic_message(|| Adam::new(params(), 1e-3).betas(0.9, -0.5)),
        "Adam: Invalid beta parameter at index 1: -0.5 (expected in [0, 1))"
    );
    assert_eq!(
        panic_message(|| Adam::new(params(), 1e-3).eps(-1.0)),
        "Adam: Invalid epsilon value: -1 (expected >= 0)"
    );
    assert_eq!(panic_message(|| AdamW::new(params(), -1e-3)), "AdamW: Invalid learning rate: -0.001 (expected >= 0)");
    assert_eq!(
        panic_message(|| AdamW::new(params(), 1e-3).weight_decay(-0.01)),
        "AdamW: Invalid weight_decay value: -0.01 (expected >= 0)"
    );
    assert_eq!(
        panic_message(|| RMSprop::new(params(), 0.01).alpha(-0.5)),
        "RMSprop: Invalid alpha value: -0.5 (expected >= 0)"
    );
    assert_eq!(
        panic_message(|| RMSprop::new(params(), 0.01).momentum(-1.0)),
        "RMSprop: Invalid momentum value: -1 (expected >= 0)"
    );
    assert_eq!(
        panic_message(|| Adagrad::new(params(), 0.01).lr_decay(-0.1)),
        "Adagrad: Invalid lr_decay value: -0.1 (expected >= 0)"
    );
    assert_eq!(
        panic_message(|| Adagrad::new(params(), 0.01).initial_accumulator_value(-1.0)),
        "Adagrad: Invalid initial_accumulator_value value: -1 (expected >= 0)"
    );
    assert_eq!(
        panic_message(|| Adam::new(params(), 1e-3).set_lr(-1.0)),
        "Adam: Invalid learning rate: -1 (expected >= 0)"
    );
}

#[test]
fn try_new_returns_typed_errors() {
    let nesterov = SgdConfig { lr: 0.1, nesterov: true, ..SgdConfig::default() };
    assert_eq!(
        SGD::try_new(params(), nesterov).err(),
        Some(OptimError::NesterovRequiresMomentum { momentum: 0.0, dampening: 0.0 })
    );
    let betas = AdamConfig { betas: (0.9, 1.0), ..AdamConfig::default() };
    assert_eq!(
        Adam::try_new(params(), betas).err(),
        Some(OptimError::InvalidHyperparameter {
            owner: "Adam",
            name: "beta parameter at index 1",
            value: 1.0,
            expected: "in [0, 1)"
        })
    );
    let eps = AdagradConfig { eps: -1e-10, ..AdagradConfig::default() };
    assert!(matches!(
        Adagrad::try_new(params(), eps),
        Err(OptimError::InvalidHyperparameter { name: "epsilon value", .. })
    ));
    assert!(SGD::try_new(params(), SgdConfig { momentum: 0.9, nesterov: true, ..SgdConfig::default() }).is_ok());
}

#[test]
fn parameters_must_be_float_leaves() {
    let err = |r: Result<SGD, OptimError>| r.err().unwrap().to_string();
    assert_eq!(err(SGD::try_new(vec![], SgdConfig::default())), "SGD: optimizer got an empty parameter list");
    let w = Tensor::zeros(&[2]).requires_grad_(true);
    let non_leaf = &w * 2.0;
    assert_eq!(
        err(SGD::try_new(vec![w.clone(), non_leaf], SgdConfig::default())),
        "SGD: can't optimize a non-leaf Tensor (parameter 1)"
    );
    let ints = Tensor::new(NdArray::from_vec(vec![1i64, 2], &[2]));
    assert_eq!(
        panic_message(|| RMSprop::new(vec![ints], 0.01)),
        "RMSprop: can only optimize floating-point tensors, but parameter 0 is i64"
    );
}

#[test]
fn options_that_change_the_kept_state_are_refused_after_a_step() {
    let w = params();
    let mut opt = Adam::new(w.clone(), 0.1);
    w[0].set_grad(Some(NdArray::ones(&[2], nabla_autograd::DType::F32)));
    opt.step();
    assert_eq!(
        panic_message(|| opt.amsgrad(true)),
        "Adam: this option changes the state kept per parameter ([\"exp_avg\", \"exp_avg_sq\"] to \
         [\"exp_avg\", \"exp_avg_sq\", \"max_exp_avg_sq\"]); set it before the first step"
    );
    // Options that keep the same buffers may change at any time.
    let mut opt = SGD::new(w.clone(), 0.1).momentum(0.9);
    opt.step();
    let opt = opt.weight_decay(0.1).momentum(0.5);
    assert_eq!(opt.config().momentum, 0.5);
}

#[test]
fn invalid_scheduler_options_panic() {
    let opt = SGD::new(params(), 0.1);
    assert_eq!(panic_message(|| StepLR::new(&opt, 0, 0.1)), "StepLR: Invalid step_size value: 0 (expected > 0)");
    assert_eq!(
        panic_message(|| ExponentialLR::new(&opt, -0.5)),
        "ExponentialLR: Invalid gamma value: -0.5 (expected >= 0)"
    );
    assert_eq!(
        panic_message(|| CosineAnnealingLR::new(&opt, 0)),
        "CosineAnnealingLR: Invalid T_max value: 0 (expected > 0)"
    );
    assert_eq!(
        panic_message(|| ReduceLROnPlateau::new(&opt).factor(1.0)),
        "ReduceLROnPlateau: Invalid factor value: 1 (expected < 1)"
    );
    assert_eq!(
        panic_message(|| ReduceLROnPlateau::new(&opt).min_lr(-1e-3)),
        "ReduceLROnPlateau: Invalid min_lr value: -0.001 (expected >= 0)"
    );
}

#[test]
fn step_runs_under_grad_mode_and_no_grad_alike() {
    let w = params();
    let mut opt = SGD::new(w.clone(), 1.0);
    w[0].set_grad(Some(NdArray::ones(&[2], nabla_autograd::DType::F32)));
    opt.step();
    {
        let _g = no_grad();
        opt.step();
    }
    assert_eq!(w[0].to_vec::<f32>(), [-2.0, -2.0]);
}
