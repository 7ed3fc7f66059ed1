//! Liveness and readiness (`/healthz`, `/readyz`).
//!
//! `/healthz` answers 200 whenever the process serves HTTP at all. `/readyz` answers 200
//! only once the composition root says the bridge can serve (state store open, first
//! sync done, ...): a [`Readiness`] is either a flag it flips or a closure it supplies.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Cheap clonable readiness probe.
#[derive(Clone)]
pub struct Readiness {
    inner: Arc<ReadinessInner>,
}

enum ReadinessInner {
    Flag(AtomicBool),
    Check(Box<dyn Fn() -> bool + Send + Sync>),
}

impl Readiness {
    /// A flag, initially `ready`; flip it with [`Readiness::set_ready`].
    pub fn flag(ready: bool) -> Self {
        Self {
            inner: Arc::new(ReadinessInner::Flag(AtomicBool::new(ready))),
        }
    }

    /// Always ready.
    pub fn always() -> Self {
        Self::flag(true)
    }

    /// Ready whenever `check` returns true (called on each `/readyz`; keep it cheap).
    pub fn from_fn(check: impl Fn() -> bool + Send + Sync + 'static) -> Self {
        Self {
            inner: Arc::new(ReadinessInner::Check(Box::new(check))),
        }
    }

    /// Set a flag readiness; no effect on a closure readiness.
    pub fn set_ready(&self, ready: bool) {
        if let ReadinessInner::Flag(f) = &*self.inner {
            f.store(ready, Ordering::Release);
        }
    }

    /// Whether the server is ready now.
    pub fn is_ready(&self) -> bool {
        match &*self.inner {
            ReadinessInner::Flag(f) => f.load(Ordering::Acquire),
            ReadinessInner::Check(c) => c(),
        }
    }
}

impl Default for Readiness {
    fn default() -> Self {
        Self::always()
    }
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readiness")
            .field("ready", &self.is_ready())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_and_closure() {
        let r = Readiness::flag(false);
        let clone = r.clone();
        assert!(!clone.is_ready());
        r.set_ready(true);
        assert!(clone.is_ready());
        let shared = Arc::new(AtomicBool::new(false));
        let s2 = shared.clone();
        let c = Readiness::from_fn(move || s2.load(Ordering::Relaxed));
        assert!(!c.is_ready());
        shared.store(true, Ordering::Relaxed);
        assert!(c.is_ready());
    }
}
