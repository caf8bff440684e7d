//! 10,000 training steps must not grow memory: every graph is freed by its backward.
//! A counting global allocator measures live heap bytes (this file holds one test so
//! no other test allocates concurrently).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use nabla_autograd::{manual_seed, no_grad, Tensor};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn ten_thousand_steps_keep_memory_flat() {
    manual_seed(0);
    let w1 = (Tensor::randn(&[4, 16]) * 0.5).requires_grad_(true);
    let w2 = (Tensor::randn(&[16, 1]) * 0.5).requires_grad_(true);
    let x = Tensor::randn(&[32, 4]);
    let y = x.sum_dim(&[1], true).sin();
    let step = || {
        let pred = x.matmul(&w1).tanh().matmul(&w2);
        let loss = (&pred - &y).square().mean();
        loss.backward();
        let _g = no_grad();
        for w in [&w1, &w2] {
            w.add_(&w.grad().unwrap(), -0.05);
            w.zero_grad();
        }
        loss.item()
    };
    let first = step();
    for _ in 0..100 {
        step();
    }
    let after_warmup = LIVE.load(Ordering::Relaxed);
    let mut last = 0.0;
    for _ in 0..10_000 {
        last = step();
    }
    let grown = LIVE.load(Ordering::Relaxed) - after_warmup;
    assert!(grown.abs() < 16 * 1024, "live heap grew by {grown} bytes over 10k steps");
    assert!(last < first * 0.5, "the loop should also learn: loss {first} -> {last}");
}
