//! Exponential backoff with jitter, for reconnecting to the data stores.

use std::time::Duration;

/// Each delay doubles, up to `max`, with up to 25 % random jitter so that
/// several instances restarting together do not knock in lockstep.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(first: Duration, max: Duration) -> Self {
        Self { next: first, max }
    }

    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(self.max);
        // Jitter from the clock's nanoseconds: good enough to spread retries,
        // and no random-number dependency for it.
        let nanos = u64::from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0),
        );
        let jitter = base.as_millis() as u64 * (nanos % 25) / 100;
        base + Duration::from_millis(jitter)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(400));
        let delays: Vec<_> = (0..5).map(|_| backoff.next_delay().as_millis()).collect();
        let bases = [100, 200, 400, 400, 400];
        for (delay, base) in delays.iter().zip(bases) {
            assert!((base..base + base / 4 + 1).contains(delay), "{delays:?}");
        }
    }
}
