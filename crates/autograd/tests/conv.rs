//! Convolution and pooling ops: forward against naive loops written here (nothing
//! shared with the kernels), `gradcheck` in f64 on odd sizes with stride 2, padding,
//! dilation, groups and ceil_mode, and shape errors that name the op and the shapes.

use nabla_autograd::{gradcheck, set_num_threads, Conv2dSpec, Pool2dSpec, Tensor};
use nabla_tensor::CONV_PARALLEL_MACS;

const _: () = assert!(32 * 16 * 132 * 48 > CONV_PARALLEL_MACS);

/// Deterministic values in [-1, 1) (a 64-bit LCG).
fn values(seed: u64, n: usize) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect()
}

fn tensor(seed: u64, shape: &[usize]) -> Tensor {
    Tensor::from_vec(values(seed, shape.iter().product()), shape)
}

/// Distinct values at least 0.1 apart, shuffled, so no max-pool window has near ties.
fn distinct(seed: u64, shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let mut order: Vec<usize> = (0..n).collect();
    let keys = values(seed, n);
    order.sort_by(|&a, &b| keys[a].total_cmp(&keys[b]));
    Tensor::from_vec(order.iter().map(|&i| i as f64 * 0.1 - n as f64 * 0.05).collect(), shape)
}

fn at(t: &[f64], shape: &[usize], idx: [usize; 4]) -> f64 {
    t[((idx[0] * shape[1] + idx[1]) * shape[2] + idx[2]) * shape[3] + idx[3]]
}

fn assert_close(got: &Tensor, want: &[f64], shape: &[usize], what: &str) {
    assert_eq!(got.shape(), shape, "{what}: shape");
    for (i, (g, w)) in got.to_vec::<f64>().iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-10 * w.abs().max(1.0), "{what}: element {i} is {g}, expected {w}");
    }
}

// ---------------------------------------------------------------------------------------
// Naive references
// ---------------------------------------------------------------------------------------

fn naive_conv(x: &Tensor, w: &Tensor, b: Option<&Tensor>, s: &Conv2dSpec) -> (Vec<f64>, Vec<usize>) {
    let (xs, ws) = (x.shape(), w.shape());
    let (xv, wv) = (x.to_vec::<f64>(), w.to_vec::<f64>());
    let bv = b.map(|b| b.to_vec::<f64>());
    let out_len = |len: usize, k: usize, d: usize| {
        let padded = len + s.padding[d][0] + s.padding[d][1];
        (padded - s.dilation[d] * (k - 1) - 1) / s.stride[d] + 1
    };
    let shape = vec![xs[0], ws[0], out_len(xs[2], ws[2], 0), out_len(xs[3], ws[3], 1)];
    let (cig, cog) = (ws[1], ws[0] / s.groups);
    let mut out = Vec::new();
    for n in 0..shape[0] {
        for o in 0..shape[1] {
            for oy in 0..shape[2] {
                for ox in 0..shape[3] {
                    let mut acc = bv.as_ref().map_or(0.0, |b| b[o]);
                    for c in 0..cig {
                        for i in 0..ws[2] {
                            for j in 0..ws[3] {
                                let y = (oy * s.stride[0] + i * s.dilation[0]) as isize - s.padding[0][0] as isize;
                                let x = (ox * s.stride[1] + j * s.dilation[1]) as isize - s.padding[1][0] as isize;
                                if y >= 0 && x >= 0 && (y as usize) < xs[2] && (x as usize) < xs[3] {
                                    let ci = o / cog * cig + c;
                                    acc += at(&xv, &xs, [n, ci, y as usize, x as usize]) * at(&wv, &ws, [o, c, i, j]);
                                }
                            }
                        }
                    }
                    out.push(acc);
                }
            }
        }
    }
    (out, shape)
}

/// PyTorch's pooled length, written from its documentation.
fn pooled(len: usize, k: usize, s: usize, p: usize, d: usize, ceil: bool) -> usize {
    let span = (len + 2 * p - d * (k - 1) - 1) as f64 / s as f64;
    let mut out = if ceil { span.ceil() } else { span.floor() } as usize + 1;
    if ceil && (out - 1) * s >= len + p {
        out -= 1;
    }
    out
}

/// Every output of a pooling: `f(plane values, in shape, window rows, window cols)`,
/// where the windows list the (possibly out-of-range) taps.
fn naive_pool(
    x: &Tensor,
    spec: &Pool2dSpec,
    f: impl Fn(&[f64], &[usize], &[isize], &[isize]) -> f64,
) -> (Vec<f64>, Vec<usize>) {
    let xs = x.shape();
    let xv = x.to_vec::<f64>();
    let taps = |o: usize, d: usize| -> Vec<isize> {
        (0..spec.kernel[d])
            .map(|j| (o * spec.stride[d] + j * spec.dilation[d]) as isize - spec.padding[d] as isize)
            .collect()
    };
    let oh = pooled(xs[2], spec.kernel[0], spec.stride[0], spec.padding[0], spec.dilation[0], spec.ceil_mode);
    let ow = pooled(xs[3], spec.kernel[1], spec.stride[1], spec.padding[1], spec.dilation[1], spec.ceil_mode);
    let plane = xs[2] * xs[3];
    let mut out = Vec::new();
    for p in 0..xs[0] * xs[1] {
        for oy in 0..oh {
            for ox in 0..ow {
                out.push(f(&xv[p * plane..(p + 1) * plane], &xs, &taps(oy, 0), &taps(ox, 1)));
            }
        }
    }
    (out, vec![xs[0], xs[1], oh, ow])
}

fn inside(t: isize, len: usize) -> bool {
    t >= 0 && (t as usize) < len
}

fn naive_max(plane: &[f64], xs: &[usize], ys: &[isize], cols: &[isize]) -> f64 {
    let mut m = f64::NEG_INFINITY;
    for &y in ys.iter().filter(|&&y| inside(y, xs[2])) {
        for &x in cols.iter().filter(|&&x| inside(x, xs[3])) {
            m = m.max(plane[y as usize * xs[3] + x as usize]);
        }
    }
    m
}

fn naive_avg(plane: &[f64], xs: &[usize], ys: &[isize], cols: &[isize], pad: [usize; 2], include_pad: bool) -> f64 {
    let mut sum = 0.0;
    let mut count = 0;
    let in_padded = |t: isize, len: usize, p: usize| t < (len + p) as isize;
    let mut padded_count = 0;
    for &y in ys {
        for &x in cols {
            if in_padded(y, xs[2], pad[0]) && in_padded(x, xs[3], pad[1]) {
                padded_count += 1;
            }
            if inside(y, xs[2]) && inside(x, xs[3]) {
                sum += plane[y as usize * xs[3] + x as usize];
                count += 1;
            }
        }
    }
    sum / if include_pad { padded_count } else { count } as f64
}

fn naive_adaptive(x: &Tensor, out: [usize; 2]) -> (Vec<f64>, Vec<usize>) {
    let xs = x.shape();
    let xv = x.to_vec::<f64>();
    let mut v = Vec::new();
    for p in 0..xs[0] * xs[1] {
        for oy in 0..out[0] {
            for ox in 0..out[1] {
                let (y0, y1) = (oy * xs[2] / out[0], ((oy + 1) * xs[2]).div_ceil(out[0]));
                let (x0, x1) = (ox * xs[3] / out[1], ((ox + 1) * xs[3]).div_ceil(out[1]));
                let mut s = 0.0;
                for y in y0..y1 {
                    for x in x0..x1 {
                        s += xv[p * xs[2] * xs[3] + y * xs[3] + x];
                    }
                }
                v.push(s / ((y1 - y0) * (x1 - x0)) as f64);
            }
        }
    }
    (v, vec![xs[0], xs[1], out[0], out[1]])
}

// ---------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------

struct ConvCase {
    name: &'static str,
    x: [usize; 4],
    w: [usize; 4],
    bias: bool,
    spec: Conv2dSpec,
}

fn conv_cases() -> Vec<ConvCase> {
    let spec = |stride, padding: [[usize; 2]; 2], dilation, groups| Conv2dSpec { stride, padding, dilation, groups };
    vec![
        ConvCase { name: "plain", x: [2, 2, 5, 4], w: [3, 2, 3, 2], bias: true, spec: Conv2dSpec::default() },
        ConvCase {
            name: "stride 2",
            x: [1, 2, 5, 5],
            w: [2, 2, 3, 3],
            bias: true,
            spec: spec([2, 2], [[0; 2]; 2], [1, 1], 1),
        },
        ConvCase {
            name: "padding",
            x: [1, 1, 3, 5],
            w: [2, 1, 3, 3],
            bias: false,
            spec: Conv2dSpec::new([1, 1], [1, 2], [1, 1], 1),
        },
        ConvCase {
            name: "asymmetric padding",
            x: [1, 2, 3, 3],
            w: [2, 2, 2, 2],
            bias: true,
            spec: spec([1, 1], [[0, 1], [1, 0]], [1, 1], 1),
        },
        ConvCase {
            name: "dilation",
            x: [1, 1, 6, 5],
            w: [2, 1, 2, 2],
            bias: true,
            spec: spec([1, 1], [[1, 1], [0, 0]], [2, 3], 1),
        },
        ConvCase {
            name: "groups",
            x: [1, 4, 4, 3],
            w: [6, 2, 2, 2],
            bias: true,
            spec: spec([1, 1], [[1, 1], [0, 0]], [1, 1], 2),
        },
        ConvCase {
            name: "depthwise stride 2",
            x: [2, 3, 5, 3],
            w: [3, 1, 3, 3],
            bias: false,
            spec: Conv2dSpec::new([2, 2], [1, 1], [1, 1], 3),
        },
        // Taps that only ever read the (right) padding, as padding="same" makes for
        // an even kernel wider than the input.
        ConvCase {
            name: "taps only in padding",
            x: [1, 1, 2, 1],
            w: [2, 1, 2, 4],
            bias: true,
            spec: spec([1, 1], [[0, 1], [1, 2]], [1, 1], 1),
        },
        ConvCase { name: "1x1", x: [2, 3, 3, 3], w: [2, 3, 1, 1], bias: true, spec: Conv2dSpec::default() },
        ConvCase {
            name: "1x1 stride 2",
            x: [1, 3, 5, 3],
            w: [2, 3, 1, 1],
            bias: false,
            spec: spec([2, 2], [[0; 2]; 2], [1, 1], 1),
        },
    ]
}

fn pool_specs() -> Vec<(&'static str, [usize; 4], Pool2dSpec)> {
    let p = |kernel, stride, padding, dilation, ceil_mode| Pool2dSpec { kernel, stride, padding, dilation, ceil_mode };
    vec![
        ("2x2", [2, 2, 4, 6], Pool2dSpec::new([2, 2])),
        ("odd input", [1, 2, 5, 7], p([2, 3], [2, 2], [0, 0], [1, 1], false)),
        ("ceil_mode", [1, 2, 5, 7], p([2, 3], [2, 2], [0, 0], [1, 1], true)),
        ("padding", [1, 2, 5, 5], p([3, 3], [2, 2], [1, 1], [1, 1], false)),
        ("padding ceil_mode", [1, 1, 6, 5], p([3, 2], [2, 2], [1, 1], [1, 1], true)),
        ("overlapping stride 1", [1, 1, 4, 5], p([3, 2], [1, 1], [1, 0], [1, 1], false)),
    ]
}

#[test]
fn conv2d_matches_naive_loops_and_gradcheck() {
    set_num_threads(2);
    for (i, c) in conv_cases().into_iter().enumerate() {
        let seed = 10 * i as u64;
        let x = tensor(seed, &c.x).requires_grad_(true);
        let w = tensor(seed + 1, &c.w).requires_grad_(true);
        let b = tensor(seed + 2, &[c.w[0]]).requires_grad_(true);
        let bias = c.bias.then_some(&b);
        let (want, shape) = naive_conv(&x, &w, bias, &c.spec);
        assert_close(&x.conv2d(&w, bias, &c.spec), &want, &shape, c.name);
        let mut inputs = vec![x, w];
        inputs.extend(bias.cloned());
        gradcheck(|t| t[0].conv2d(&t[1], t.get(2), &c.spec), &inputs).unwrap_or_else(|e| panic!("{}: {e}", c.name));
    }
}

#[test]
fn conv2d_on_non_contiguous_input_and_batch_above_the_parallel_threshold() {
    set_num_threads(2);
    // A transposed view as input; 32 * 16 * 132 * 48 multiply-adds go to the pool.
    let x = tensor(1, &[32, 8, 12, 12]).transpose(2, 3);
    let w = tensor(2, &[16, 8, 3, 2]);
    let spec = Conv2dSpec::new([1, 1], [1, 0], [1, 1], 1);
    let (want, shape) = naive_conv(&x, &w, None, &spec);
    assert_close(&x.conv2d(&w, None, &spec), &want, &shape, "strided");
}

#[test]
fn max_pool2d_matches_naive_loops_and_gradcheck() {
    let mut specs = pool_specs();
    let p = |kernel, stride, padding, dilation, ceil_mode| Pool2dSpec { kernel, stride, padding, dilation, ceil_mode };
    specs.push(("dilation", [1, 2, 7, 6], p([2, 2], [2, 1], [1, 0], [2, 3], false)));
    specs.push(("dilation ceil_mode", [1, 1, 7, 6], p([2, 2], [2, 2], [1, 1], [2, 2], true)));
    for (i, (name, shape, spec)) in specs.into_iter().enumerate() {
        let x = distinct(i as u64, &shape).requires_grad_(true);
        let (want, out_shape) = naive_pool(&x, &spec, naive_max);
        let (y, idx) = x.max_pool2d_with_indices(&spec);
        assert_close(&y, &want, &out_shape, name);
        let plane = x.to_vec::<f64>();
        for (k, (&j, &v)) in idx.to_vec::<i64>().iter().zip(&want).enumerate() {
            let p = k / (out_shape[2] * out_shape[3]);
            assert_eq!(plane[p * shape[2] * shape[3] + j as usize], v, "{name}: index {k}");
        }
        gradcheck(|t| t[0].max_pool2d(&spec), &[x]).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn avg_pool2d_matches_naive_loops_and_gradcheck() {
    for (i, (name, shape, spec)) in pool_specs().into_iter().enumerate() {
        for include_pad in [true, false] {
            let x = tensor(i as u64, &shape).requires_grad_(true);
            let (want, out_shape) =
                naive_pool(&x, &spec, |v, s, ys, xs| naive_avg(v, s, ys, xs, spec.padding, include_pad));
            let what = format!("{name}, count_include_pad={include_pad}");
            assert_close(&x.avg_pool2d(&spec, include_pad), &want, &out_shape, &what);
            gradcheck(|t| t[0].avg_pool2d(&spec, include_pad), &[x]).unwrap_or_else(|e| panic!("{what}: {e}"));
        }
    }
}

#[test]
fn adaptive_avg_pool2d_matches_naive_loops_and_gradcheck() {
    for (i, (shape, out)) in
        [([1, 2, 7, 5], [3, 2]), ([2, 1, 4, 4], [2, 2]), ([1, 1, 3, 5], [5, 7]), ([1, 2, 5, 3], [1, 1])]
            .into_iter()
            .enumerate()
    {
        let x = tensor(i as u64, &shape).requires_grad_(true);
        let (want, out_shape) = naive_adaptive(&x, out);
        assert_close(&x.adaptive_avg_pool2d(out), &want, &out_shape, &format!("{shape:?} -> {out:?}"));
        gradcheck(|t| t[0].adaptive_avg_pool2d(out), &[x]).unwrap();
    }
}

#[test]
fn pools_accept_unbatched_input() {
    let x = tensor(3, &[2, 5, 4]);
    let batched = x.unsqueeze(0);
    let spec = Pool2dSpec { ceil_mode: true, ..Pool2dSpec::new([2, 2]) };
    assert_eq!(x.max_pool2d(&spec).to_vec::<f64>(), batched.max_pool2d(&spec).to_vec::<f64>());
    assert_eq!(x.avg_pool2d(&spec, true).to_vec::<f64>(), batched.avg_pool2d(&spec, true).to_vec::<f64>());
    assert_eq!(x.adaptive_avg_pool2d([2, 3]).shape(), vec![2, 2, 3]);
}

/// A call expected to panic.
type Call = Box<dyn FnOnce() + std::panic::UnwindSafe>;

fn panic_message(f: Call) -> String {
    let err = std::panic::catch_unwind(f).expect_err("expected a panic");
    err.downcast_ref::<String>().cloned().or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string())).unwrap()
}

#[test]
fn shape_errors_name_the_op_and_the_shapes() {
    let cases: Vec<(Call, &str)> = vec![
        (
            Box::new(|| drop(Tensor::zeros(&[1, 3, 5, 5]).conv2d(&Tensor::zeros(&[4, 2, 3, 3]), None, &Conv2dSpec::default()))),
            "conv2d: input [1, 3, 5, 5] and weight [4, 2, 3, 3] with groups=1 do not fit",
        ),
        (
            Box::new(|| drop(Tensor::zeros(&[3, 5, 5]).conv2d(&Tensor::zeros(&[4, 3, 3, 3]), None, &Conv2dSpec::default()))),
            "conv2d: expected a 4-D input [N, C_in, H, W] and a 4-D weight [C_out, C_in/groups, kH, kW], got input [3, 5, 5] and weight [4, 3, 3, 3]",
        ),
        (
            Box::new(|| {
                let spec = Conv2dSpec { groups: 2, ..Conv2dSpec::default() };
                drop(Tensor::zeros(&[1, 4, 5, 5]).conv2d(&Tensor::zeros(&[3, 2, 3, 3]), None, &spec))
            }),
            "conv2d: input [1, 4, 5, 5] and weight [3, 2, 3, 3] with groups=2 do not fit",
        ),
        (
            Box::new(|| {
                let (x, w) = (Tensor::zeros(&[1, 3, 5, 5]), Tensor::zeros(&[4, 3, 3, 3]));
                drop(x.conv2d(&w, Some(&Tensor::zeros(&[3])), &Conv2dSpec::default()))
            }),
            "conv2d: bias [3] must have shape [4] to match input [1, 3, 5, 5] and weight [4, 3, 3, 3]",
        ),
        (
            Box::new(|| drop(Tensor::zeros(&[1, 1, 2, 2]).max_pool2d(&Pool2dSpec::new([3, 3])))),
            "max_pool2d: input [1, 1, 2, 2] padded by 0 is smaller than the window [3, 3]",
        ),
        (
            Box::new(|| drop(Tensor::zeros(&[5, 5]).avg_pool2d(&Pool2dSpec::new([2, 2]), true))),
            "avg_pool2d: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got shape [5, 5]",
        ),
        (
            Box::new(|| {
                let spec = Pool2dSpec { padding: [2, 1], ..Pool2dSpec::new([3, 3]) };
                drop(Tensor::zeros(&[1, 1, 6, 6]).avg_pool2d(&spec, true))
            }),
            "avg_pool2d: pad should be at most half of effective kernel size, but got pad=2, kernel_size=3 and dilation=1 (input [1, 1, 6, 6])",
        ),
    ];
    for (f, want) in cases {
        let msg = panic_message(f);
        assert!(msg.contains(want), "panicked with {msg:?}, expected {want:?}");
    }
}
