//! Convolution and pooling layers against PyTorch's golden values
//! (`fixtures/conv.json`, written by `tools/fixtures/gen_conv.py`; no Python needed
//! here). In f32 each layer is built with the fixture's arguments and its torch
//! `state_dict` is loaded by name; in f64 the same case runs through `nn::functional`.
//! Outputs and the gradients of input, weight and bias are compared.

mod common;

use std::collections::BTreeMap;

use common::Array;
use nabla_autograd::{DType, Tensor};
use nabla_nn::functional::{self as F, Padding};
use nabla_nn::{AdaptiveAvgPool2d, AvgPool2d, Conv1d, Conv2d, ConvOptions, Layer, MaxPool2d, ModuleExt, StateDict};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Fixture {
    torch_version: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    layer: String,
    args: BTreeMap<String, Value>,
    state_dict: BTreeMap<String, Array>,
    input: Array,
    output: Array,
    output_weights: Array,
    grad_input: Array,
    grad_params: BTreeMap<String, Array>,
}

fn fixture() -> Fixture {
    serde_json::from_str(include_str!("fixtures/conv.json")).expect("fixtures/conv.json is valid")
}

impl Case {
    fn usize(&self, key: &str) -> Option<usize> {
        self.args
            .get(key)
            .map(|v| v.as_u64().unwrap_or_else(|| panic!("{}: {key} is not a number", self.name)) as usize)
    }

    /// An `int or tuple` argument as a pair.
    fn pair(&self, key: &str, default: usize) -> [usize; 2] {
        match self.args.get(key) {
            None => [default; 2],
            Some(Value::Array(v)) => [v[0].as_u64().unwrap() as usize, v[1].as_u64().unwrap() as usize],
            Some(v) => [v.as_u64().unwrap_or_else(|| panic!("{}: bad {key} {v}", self.name)) as usize; 2],
        }
    }

    /// A pooling stride; PyTorch's default (`None`) is the kernel size.
    fn pool_stride(&self, kernel: [usize; 2]) -> [usize; 2] {
        if self.args.contains_key("stride") {
            self.pair("stride", 1)
        } else {
            kernel
        }
    }

    fn flag(&self, key: &str, default: bool) -> bool {
        self.args.get(key).map_or(default, |v| v.as_bool().unwrap())
    }

    fn padding(&self) -> Padding {
        match self.args.get("padding") {
            Some(Value::String(s)) if s == "same" => Padding::Same,
            Some(Value::String(s)) if s == "valid" => Padding::Valid,
            _ => Padding::Explicit(self.pair("padding", 0)),
        }
    }

    fn conv_options(&self) -> ConvOptions {
        ConvOptions::new()
            .stride(self.pair("stride", 1))
            .padding(self.padding())
            .dilation(self.pair("dilation", 1))
            .groups(self.usize("groups").unwrap_or(1))
            .bias(self.flag("bias", true))
    }

    /// The layer, as `nn.<layer>(**args)` in PyTorch.
    fn layer(&self) -> Box<dyn Layer> {
        let (cin, cout) = (self.usize("in_channels"), self.usize("out_channels"));
        let kernel = self.pair("kernel_size", 0);
        match self.layer.as_str() {
            "Conv2d" => Box::new(Conv2d::with_options(cin.unwrap(), cout.unwrap(), kernel, self.conv_options())),
            "Conv1d" => Box::new(Conv1d::with_options(cin.unwrap(), cout.unwrap(), kernel[0], self.conv_options())),
            "MaxPool2d" => Box::new(
                MaxPool2d::new(kernel)
                    .stride(self.pool_stride(kernel))
                    .padding(self.pair("padding", 0))
                    .dilation(self.pair("dilation", 1))
                    .ceil_mode(self.flag("ceil_mode", false)),
            ),
            "AvgPool2d" => Box::new(
                AvgPool2d::new(kernel)
                    .stride(self.pool_stride(kernel))
                    .padding(self.pair("padding", 0))
                    .ceil_mode(self.flag("ceil_mode", false))
                    .count_include_pad(self.flag("count_include_pad", true)),
            ),
            "AdaptiveAvgPool2d" => Box::new(AdaptiveAvgPool2d::new(self.pair("output_size", 0))),
            other => panic!("unknown layer {other:?}"),
        }
    }

    /// The same layer through `nn::functional`, with its parameters in `params`.
    fn functional(&self, x: &Tensor, params: &BTreeMap<String, Tensor>) -> Tensor {
        let (w, b) = (params.get("weight"), params.get("bias"));
        let kernel = self.pair("kernel_size", 0);
        let stride = self.pool_stride(kernel);
        let (dilation, groups) = (self.pair("dilation", 1), self.usize("groups").unwrap_or(1));
        match self.layer.as_str() {
            "Conv2d" => F::conv2d(x, w.unwrap(), b, self.pair("stride", 1), self.padding(), dilation, groups),
            "Conv1d" => F::conv1d(x, w.unwrap(), b, self.pair("stride", 1)[0], self.padding(), dilation[0], groups),
            "MaxPool2d" => {
                F::max_pool2d(x, kernel, stride, self.pair("padding", 0), dilation, self.flag("ceil_mode", false))
            }
            "AvgPool2d" => F::avg_pool2d(
                x,
                kernel,
                stride,
                self.pair("padding", 0),
                self.flag("ceil_mode", false),
                self.flag("count_include_pad", true),
            ),
            "AdaptiveAvgPool2d" => F::adaptive_avg_pool2d(x, self.pair("output_size", 0)),
            other => panic!("unknown layer {other:?}"),
        }
    }
}

/// `|got - want| <= rtol (|want| + 1)` elementwise, with the same shape.
#[track_caller]
fn assert_close(case: &str, what: &str, got: &Tensor, want: &Array, rtol: f64) {
    assert_eq!(got.shape(), want.shape, "{case}: {what} shape");
    for (i, (g, w)) in got.to_vec::<f64>().iter().zip(&want.data).enumerate() {
        assert!((g - w).abs() <= rtol * (w.abs() + 1.0), "{case}: {what}[{i}] is {g}, PyTorch gives {w}");
    }
}

fn check(case: &Case, what: &str, y: &Tensor, x: &Tensor, params: &[(String, Tensor)], dtype: DType, rtol: f64) {
    assert_eq!(y.dtype(), dtype, "{}: output dtype", case.name);
    assert_close(&case.name, &format!("{what} output"), y, &case.output, rtol);
    y.mul(&case.output_weights.tensor(dtype)).sum().backward();
    assert_close(&case.name, &format!("{what} input grad"), &x.grad().unwrap(), &case.grad_input, rtol);
    assert_eq!(params.len(), case.grad_params.len(), "{}: parameter count", case.name);
    for (name, p) in params {
        let want = case.grad_params.get(name).unwrap_or_else(|| panic!("{}: no torch parameter {name}", case.name));
        assert_close(&case.name, &format!("{what} {name} grad"), &p.grad().unwrap(), want, rtol);
    }
}

#[test]
fn layers_with_torch_state_dicts_match_pytorch_in_f32() {
    let fixture = fixture();
    assert!(fixture.torch_version.starts_with('2'), "fixture from torch {}", fixture.torch_version);
    for case in &fixture.cases {
        let layer = case.layer();
        if !case.state_dict.is_empty() {
            let state: StateDict = case.state_dict.iter().map(|(k, v)| (k.clone(), v.array(DType::F32))).collect();
            layer.load_state_dict(&state, true).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        }
        let x = case.input.tensor(DType::F32).requires_grad_(true);
        let y = layer.forward(&x);
        check(case, "f32", &y, &x, &layer.named_parameters(), DType::F32, 1e-5);
    }
}

#[test]
fn functional_forms_match_pytorch_in_f64() {
    for case in &fixture().cases {
        let params: BTreeMap<String, Tensor> =
            case.state_dict.iter().map(|(k, v)| (k.clone(), v.tensor(DType::F64).requires_grad_(true))).collect();
        let x = case.input.tensor(DType::F64).requires_grad_(true);
        let y = case.functional(&x, &params);
        let named: Vec<(String, Tensor)> = params.into_iter().collect();
        check(case, "f64", &y, &x, &named, DType::F64, 1e-8);
    }
}

#[test]
fn default_init_is_torch_kaiming_uniform_with_a_sqrt5() {
    nabla_autograd::manual_seed(0);
    let conv = Conv2d::with_options(8, 16, [3, 5], ConvOptions::new().groups(2));
    let bound = 1.0 / ((4 * 3 * 5) as f64).sqrt();
    for p in [&conv.weight, conv.bias.as_ref().unwrap()] {
        let v = p.to_vec::<f64>();
        assert!(v.iter().all(|x| x.abs() <= bound));
        assert!(v.iter().any(|x| x.abs() > 0.8 * bound), "samples should fill U(-bound, bound)");
    }
    let names: Vec<String> = conv.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["weight", "bias"]);
    assert!(Conv1d::with_options(2, 3, 4, ConvOptions::new().bias(false)).bias.is_none());
}

#[test]
#[should_panic(expected = "conv2d: padding=\"same\" is not supported for strided convolutions")]
fn same_padding_needs_stride_1() {
    F::conv2d(&Tensor::zeros(&[1, 1, 5, 5]), &Tensor::zeros(&[1, 1, 3, 3]), None, 2, Padding::Same, 1, 1);
}

#[test]
#[should_panic(expected = "conv1d: padding must be a single number, got [1, 2]")]
fn conv1d_takes_single_numbers() {
    F::conv1d(&Tensor::zeros(&[1, 1, 5]), &Tensor::zeros(&[1, 1, 3]), None, 1, [1, 2], 1, 1);
}

#[test]
fn conv1d_gradients_match_finite_differences() {
    nabla_autograd::manual_seed(7);
    let f64_leaf = |shape: &[usize]| Tensor::randn(shape).double().requires_grad_(true);
    // Odd length, stride 2, padding 2, dilation 2, 2 groups, a bias; then an unbatched
    // input with "same" padding.
    let (x, w, b) = (f64_leaf(&[2, 4, 11]), f64_leaf(&[6, 2, 3]), f64_leaf(&[6]));
    nabla_autograd::gradcheck(|t| F::conv1d(&t[0], &t[1], Some(&t[2]), 2, 2, 2, 2), &[x, w, b])
        .unwrap_or_else(|e| panic!("strided, grouped: {e}"));
    let (x, w) = (f64_leaf(&[3, 7]), f64_leaf(&[2, 3, 4]));
    nabla_autograd::gradcheck(|t| F::conv1d(&t[0], &t[1], None, 1, Padding::Same, 1, 1), &[x, w])
        .unwrap_or_else(|e| panic!("unbatched, same: {e}"));
}
