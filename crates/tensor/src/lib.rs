//! # nabla-tensor
//!
//! Strided n-dimensional arrays ([`NdArray`]) with a runtime dtype (`f32`, `f64`,
//! `i64`) and the CPU kernels behind every op of nabla: elementwise maps with
//! PyTorch broadcasting, reductions, GEMM through `matrixmultiply`, indexing, and a
//! seeded generator. There is no autograd here; `nabla-autograd` builds on this.
//!
//! ```
//! use nabla_tensor::{NdArray, DType};
//! let a = NdArray::arange(0.0, 6.0, 1.0, DType::F32).reshape(&[2, 3]);
//! let b = a.t();                         // a view: no copy
//! assert!(b.shares_storage(&a));
//! let c = a.matmul(&b);                  // [2, 2]
//! assert_eq!(c.to_vec::<f32>(), vec![5.0, 14.0, 14.0, 50.0]);
//! ```
//!
//! Misuse inside the math (mismatched shapes, bad dims) panics with the op's name and
//! the shapes involved; entry points where shapes come from data have `try_` forms.
#![warn(missing_docs)]

mod array;
mod binary;
mod conv;
mod display;
mod dtype;
mod error;
mod gemv;
mod index;
mod kernels;
mod layout;
mod matmul;
mod op_lists;
mod parallel;
mod pool;
mod pool_avx2;
pub mod random;
mod record;
mod reduce;
pub mod simd;
mod small_gemm;
mod storage;
mod threads;
mod transpose;
mod unary;
mod views;

pub use array::{NdArray, WeakStorage};
pub use binary::{Binary, Compare};
pub use conv::{conv2d_output_shape, Conv2dContext, Conv2dSpec, CONV_PARALLEL_MACS};
pub use dtype::{DType, Element, FloatElement};
pub use error::TensorError;
pub use layout::{broadcast_shapes, contiguous_strides, normalize_dim, Layout};
pub use matmul::{matmul_shape, MATMUL_PARALLEL_MACS};
pub use parallel::parallel_map;
pub use pool::Pool2dSpec;
pub use random::{manual_seed, rng_state, set_rng_state, RngState};
pub use reduce::{count_nonzero, Reduce};
pub use storage::Storage;
pub use threads::{get_num_threads, set_num_threads, PARALLEL_THRESHOLD};
pub use unary::Unary;
pub use views::{broadcast_shape_for, infer_shape};
