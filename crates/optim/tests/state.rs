//! Optimizer and scheduler state: exact resume through bincode, snapshots, skipped
//! parameters, and the checks `load_state_dict` makes.

use nabla_autograd::{DType, NdArray, Tensor};
use nabla_optim::{
    Adagrad, Adam, AdamW, CosineAnnealingLR, ExponentialLR, LrScheduler, OptimError, Optimizer, OptimizerConfig,
    OptimizerState, PlateauMode, RMSprop, ReduceLROnPlateau, SchedulerState, StepLR, SGD,
};

/// One f64 and one f32 parameter, so every run exercises both instances of each rule.
const PARAMS: [(&[usize], DType); 2] = [(&[2, 3], DType::F64), (&[4], DType::F32)];
const STEPS: usize = 6;

fn initial() -> Vec<Vec<f64>> {
    PARAMS.iter().enumerate().map(|(i, (shape, _))| wave(shape, 0.3 + i as f64)).collect()
}

fn wave(shape: &[usize], phase: f64) -> Vec<f64> {
    (0..shape.iter().product()).map(|j| (phase + 0.9 * j as f64).sin()).collect()
}

fn make_params(values: &[Vec<f64>]) -> Vec<Tensor> {
    let arrays = values.iter().zip(PARAMS).map(|(v, (shape, dtype))| NdArray::from_slice(v, shape).cast(dtype));
    arrays.map(|a| Tensor::new(a).requires_grad_(true)).collect()
}

/// Step `k`'s gradients; parameter 1 gets none at step 1 and parameter 0 none at step 4,
/// so step counts differ between parameters on both sides of the checkpoint.
fn set_grads(params: &[Tensor], k: usize) {
    for (i, (p, (shape, dtype))) in params.iter().zip(PARAMS).enumerate() {
        let skip = (k, i) == (1, 1) || (k, i) == (4, 0);
        p.set_grad((!skip).then(|| NdArray::from_vec(wave(shape, 1.7 * k as f64 - i as f64), shape).cast(dtype)));
    }
}

/// The values of `params`, as exact bit patterns (f32 widens to f64 exactly).
fn bits(params: &[Tensor]) -> Vec<Vec<u64>> {
    params.iter().map(|p| p.to_vec::<f64>().iter().map(|v| v.to_bits()).collect()).collect()
}

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> T {
    bincode::deserialize(&bincode::serialize(value).unwrap()).unwrap()
}

type Make = fn(Vec<Tensor>) -> Box<dyn Optimizer>;
type MakeScheduler = fn(&dyn Optimizer) -> Box<dyn LrScheduler>;

fn optimizers() -> Vec<(&'static str, Make)> {
    vec![
        ("SGD nesterov", |p| Box::new(SGD::new(p, 0.1).momentum(0.9).nesterov(true).weight_decay(1e-2))),
        ("SGD dampening", |p| Box::new(SGD::new(p, 0.1).momentum(0.5).dampening(0.3))),
        ("Adam amsgrad", |p| Box::new(Adam::new(p, 0.05).betas(0.8, 0.9).amsgrad(true).weight_decay(0.1))),
        ("AdamW", |p| Box::new(AdamW::new(p, 0.05))),
        ("RMSprop", |p| Box::new(RMSprop::new(p, 0.01).momentum(0.5).centered(true).weight_decay(0.1))),
        ("Adagrad", |p| Box::new(Adagrad::new(p, 0.1).lr_decay(0.1).initial_accumulator_value(0.2))),
    ]
}

/// Trains `STEPS` steps without interruption, and again with a checkpoint after half of
/// them: optimizer and scheduler states through bincode, then fresh parameters holding
/// the saved values, a fresh optimizer and scheduler loading the states. Returns the
/// final parameter bits and the learning rates of both runs.
fn run_both(make: Make, make_scheduler: Option<MakeScheduler>) -> [(Vec<Vec<u64>>, Vec<u64>); 2] {
    let run = |params: &[Tensor], opt: &mut dyn Optimizer, sched: &mut Option<Box<dyn LrScheduler>>, steps| {
        let mut lrs = vec![];
        for k in steps {
            set_grads(params, k);
            opt.step();
            if let Some(s) = sched {
                s.step(opt);
            }
            lrs.push(opt.lr().to_bits());
        }
        lrs
    };

    let params = make_params(&initial());
    let mut opt = make(params.clone());
    let mut sched = make_scheduler.map(|m| m(opt.as_ref()));
    let lrs = run(&params, opt.as_mut(), &mut sched, 0..STEPS);
    let uninterrupted = (bits(&params), lrs);

    let params = make_params(&initial());
    let mut opt = make(params.clone());
    let mut sched = make_scheduler.map(|m| m(opt.as_ref()));
    let mut lrs = run(&params, opt.as_mut(), &mut sched, 0..STEPS / 2);
    let saved_opt: OptimizerState = round_trip(&opt.state_dict());
    let saved_sched: Option<SchedulerState> = sched.map(|s| round_trip(&s.state_dict()));
    let saved_values: Vec<Vec<f64>> = params.iter().map(|p| p.to_vec()).collect();

    let params = make_params(&saved_values);
    let mut opt = make(params.clone());
    // As in PyTorch: build the scheduler, then load both states.
    let mut sched = make_scheduler.map(|m| m(opt.as_ref()));
    opt.load_state_dict(&saved_opt).unwrap();
    if let (Some(s), Some(state)) = (&mut sched, &saved_sched) {
        s.load_state_dict(state).unwrap();
    }
    lrs.extend(run(&params, opt.as_mut(), &mut sched, STEPS / 2..STEPS));
    [uninterrupted, (bits(&params), lrs)]
}

#[test]
fn resumed_training_is_bit_identical() {
    for (name, make) in optimizers() {
        let [a, b] = run_both(make, None);
        assert_eq!(a, b, "{name}: resumed run differs");
    }
}

#[test]
fn resumed_schedules_are_bit_identical() {
    let schedulers: [(&str, MakeScheduler); 3] = [
        ("StepLR", |o| Box::new(StepLR::new(o, 2, 0.5))),
        ("ExponentialLR", |o| Box::new(ExponentialLR::new(o, 0.9))),
        ("CosineAnnealingLR", |o| Box::new(CosineAnnealingLR::new(o, 2).eta_min(0.001))),
    ];
    for (name, make_scheduler) in schedulers {
        let [a, b] = run_both(|p| Box::new(Adam::new(p, 0.1)), Some(make_scheduler));
        assert_eq!(a, b, "{name}: resumed run differs");
        assert!(a.1.windows(2).any(|w| w[0] != w[1]), "{name}: the rate never changed");
    }
}

#[test]
fn plateau_state_resumes_exactly() {
    let metrics = [1.0, 0.9, 0.95, 0.96, 0.97, 0.98, 0.99, 1.0];
    let opt = SGD::new(make_params(&initial()), 0.1);
    let fresh = || ReduceLROnPlateau::new(&opt).mode(PlateauMode::Min).patience(1).cooldown(1).factor(0.5);
    let lrs = |split: Option<usize>| {
        let mut opt = SGD::new(make_params(&initial()), 0.1);
        let mut sched = fresh();
        for (k, &m) in metrics.iter().enumerate() {
            if split == Some(k) {
                let state = round_trip(&sched.state_dict());
                sched = fresh();
                sched.load_state_dict(&state).unwrap();
            }
            sched.step(m, &mut opt);
        }
        (sched.get_last_lr(), opt.lr())
    };
    let expected = lrs(None);
    assert_eq!(expected, (0.025, 0.025));
    assert_eq!(lrs(Some(3)), expected);
}

#[test]
fn state_dict_is_a_snapshot() {
    let params = make_params(&initial());
    let mut opt = Adam::new(params.clone(), 0.1);
    set_grads(&params, 0);
    opt.step();
    let state = opt.state_dict();
    let before = bincode::serialize(&state).unwrap();
    opt.step();
    opt.set_lr(0.5);
    assert_eq!(bincode::serialize(&state).unwrap(), before, "later steps changed an earlier snapshot");
    assert_eq!(opt.state_dict().state[&0].step, 2);
}

#[test]
fn parameters_without_gradients_are_skipped() {
    let params = make_params(&initial());
    let mut opt = SGD::new(params.clone(), 0.1).momentum(0.5);
    let before = bits(&params);
    params[0].set_grad(Some(NdArray::ones(&[2, 3], DType::F64)));
    opt.step();
    opt.step();
    let after = bits(&params);
    assert_ne!(after[0], before[0]);
    assert_eq!(after[1], before[1], "a parameter without a gradient moved");
    let state = opt.state_dict();
    assert_eq!(state.num_params, 2);
    assert_eq!(state.state.keys().copied().collect::<Vec<_>>(), [0]);
    assert_eq!(state.state[&0].step, 2);
    assert_eq!(state.state[&0].buffers["momentum_buffer"].to_vec::<f64>(), vec![1.5; 6]);

    opt.zero_grad();
    assert!(params.iter().all(|p| p.grad_array().is_none()), "zero_grad sets gradients to None");
}

#[test]
fn optimizers_and_schedulers_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<(SGD, Adam, AdamW, RMSprop, Adagrad, OptimizerState)>();
    check::<(StepLR, ExponentialLR, CosineAnnealingLR, ReduceLROnPlateau, SchedulerState)>();
}

#[test]
fn gradients_of_another_dtype_are_cast() {
    let p = Tensor::new(NdArray::from_vec(vec![1.0f64, 2.0], &[2])).requires_grad_(true);
    let mut opt = SGD::new(vec![p.clone()], 0.5);
    p.set_grad(Some(NdArray::from_vec(vec![1.0f32, -1.0], &[2])));
    opt.step();
    assert_eq!(p.to_vec::<f64>(), [0.5, 2.5]);
    assert_eq!(p.dtype(), DType::F64);
}

/// An Adam state after one step over the standard parameters, and a fresh Adam to load it.
fn adam_state() -> (OptimizerState, Adam) {
    let params = make_params(&initial());
    let mut opt = Adam::new(params.clone(), 0.1);
    set_grads(&params, 0);
    opt.step();
    (opt.state_dict(), Adam::new(make_params(&initial()), 0.1))
}

fn load_err(opt: &mut dyn Optimizer, state: &OptimizerState) -> String {
    let before = bincode::serialize(&opt.state_dict()).unwrap();
    let err = opt.load_state_dict(state).unwrap_err().to_string();
    assert_eq!(bincode::serialize(&opt.state_dict()).unwrap(), before, "a failed load changed the optimizer");
    err
}

#[test]
fn load_state_dict_rejects_mismatched_states() {
    let (state, mut adam) = adam_state();
    adam.load_state_dict(&state).unwrap();

    let mut sgd = SGD::new(make_params(&initial()), 0.1);
    assert_eq!(load_err(&mut sgd, &state), "load_state_dict: the state was saved by Adam, not SGD");
    assert_eq!(sgd.load_state_dict(&state).unwrap_err(), OptimError::WrongKind { expected: "SGD", found: "Adam" });

    let mut one = Adam::new(make_params(&initial()).into_iter().take(1), 0.1);
    assert_eq!(
        load_err(&mut one, &state),
        "load_state_dict: the state was saved for 2 parameters, but the optimizer has 1"
    );

    let mut reshaped = make_params(&initial());
    reshaped[0] = Tensor::new(NdArray::zeros(&[3, 2], DType::F64)).requires_grad_(true);
    assert_eq!(
        load_err(&mut Adam::new(reshaped, 0.1), &state),
        "load_state_dict: buffer 'exp_avg' of parameter 0 is f64 [2, 3], but the parameter is f64 [3, 2]"
    );
    let mut retyped = make_params(&initial());
    retyped[0] = Tensor::zeros(&[2, 3]).requires_grad_(true);
    assert_eq!(
        load_err(&mut Adam::new(retyped, 0.1), &state),
        "load_state_dict: buffer 'exp_avg' of parameter 0 is f64 [2, 3], but the parameter is f32 [2, 3]"
    );

    let mut missing = state.clone();
    missing.state.get_mut(&1).unwrap().buffers.remove("exp_avg_sq");
    assert_eq!(load_err(&mut adam, &missing), "load_state_dict: the state of parameter 1 lacks buffer 'exp_avg_sq'");
    let mut amsgrad = state.clone();
    let OptimizerConfig::Adam(c) = &mut amsgrad.config else { unreachable!() };
    c.amsgrad = true;
    assert_eq!(
        load_err(&mut adam, &amsgrad),
        "load_state_dict: the state of parameter 0 lacks buffer 'max_exp_avg_sq'"
    );

    let mut extra = state.clone();
    let buf = extra.state[&0].buffers["exp_avg"].clone();
    extra.state.get_mut(&0).unwrap().buffers.insert("momentum_buffer".into(), buf);
    assert_eq!(
        load_err(&mut adam, &extra),
        "load_state_dict: the state of parameter 0 has unexpected buffer 'momentum_buffer'"
    );

    let mut out_of_range = state.clone();
    let entry = out_of_range.state[&0].clone();
    out_of_range.state.insert(7, entry);
    assert_eq!(
        load_err(&mut adam, &out_of_range),
        "load_state_dict: the state has an entry for parameter 7, but the optimizer has only 2 parameters"
    );

    let mut bad_lr = state.clone();
    let OptimizerConfig::Adam(c) = &mut bad_lr.config else { unreachable!() };
    c.lr = -1.0;
    assert_eq!(load_err(&mut adam, &bad_lr), "Adam: Invalid learning rate: -1 (expected >= 0)");
}

#[test]
fn loading_restores_hyperparameters_and_adamw_keeps_decoupling() {
    let (mut state, _) = adam_state();
    let OptimizerConfig::Adam(c) = &mut state.config else { unreachable!() };
    c.lr = 0.025;
    c.weight_decay = 0.5;
    let mut adamw = AdamW::new(make_params(&initial()), 0.1);
    adamw.load_state_dict(&state).unwrap();
    assert_eq!(adamw.lr(), 0.025);
    assert_eq!(adamw.config().weight_decay, 0.5);
    assert!(adamw.config().decoupled_weight_decay, "AdamW always decouples weight decay, as in PyTorch");
    assert_eq!(adamw.state_dict().config.name(), "AdamW");
}

#[test]
fn scheduler_states_are_checked() {
    let opt = SGD::new(make_params(&initial()), 0.1);
    let step = StepLR::new(&opt, 3, 0.1).state_dict();
    let mut cosine = CosineAnnealingLR::new(&opt, 10);
    let err = cosine.load_state_dict(&step).unwrap_err();
    assert_eq!(err.to_string(), "load_state_dict: the state was saved by StepLR, not CosineAnnealingLR");
    let mut plateau = ReduceLROnPlateau::new(&opt);
    assert_eq!(
        plateau.load_state_dict(&step).unwrap_err(),
        OptimError::WrongKind { expected: "ReduceLROnPlateau", found: "StepLR" }
    );
}
