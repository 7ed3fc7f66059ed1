//! Optional background polling (issue 5 item 2; `poll_interval_secs`).
//!
//! Every interval each loaded account gets its folder tree checked (on its own, longer
//! window) and one delta round per book, through the same single-flight gates as reads,
//! so polling and clients never double a Graph call. The task holds only a weak
//! reference: dropping the last `Arc<Bridge>` ends it.

use super::Bridge;
use std::sync::{Arc, Weak};
use std::time::Duration;

impl Bridge {
    /// Poll every loaded account every `interval` until the bridge is dropped.
    pub fn spawn_polling(self: &Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Bridge> = Arc::downgrade(self);
        let interval = interval.max(Duration::from_secs(1));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(bridge) = weak.upgrade() else { return };
                bridge.poll_once().await;
            }
        })
    }

    /// One polling pass over every loaded account (errors are counted in `stats`).
    pub async fn poll_once(&self) {
        for m in self.loaded() {
            if self.ensure_tree(&m, false).await.is_err() {
                continue;
            }
            let Ok(books) = m.books() else { continue };
            for b in books {
                let _ = self.ensure_fresh(&m, &b, true).await;
            }
        }
    }
}
