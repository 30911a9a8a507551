//! Ordered acknowledgement tracking per partition.
//!
//! Records are tracked in the order they are consumed. Their outputs are acknowledged by the
//! broker in any order, but a partition's committable offset only moves past a record when
//! that record *and every earlier record of the partition* is acknowledged. So a stored
//! offset never skips an unacknowledged record, whatever order deliveries complete in.
//!
//! Each assignment of a partition gets a fresh epoch: acknowledgements that arrive after the
//! partition was revoked (or revoked and assigned again) carry a stale epoch and are ignored.

use std::collections::{HashMap, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A topic and partition.
pub type TopicPartition = (String, i32);

/// Proof that a record was tracked; handed back to [`OffsetTracker::ack`] after delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// The record's topic and partition.
    pub tp: TopicPartition,
    /// The record's offset.
    pub offset: i64,
    epoch: u64,
}

#[derive(Debug)]
struct PartitionState {
    epoch: u64,
    /// Tracked offsets in consumption order, with their acknowledgement flag.
    pending: VecDeque<(i64, bool)>,
    /// Next offset to store (last contiguous acknowledged + 1) not yet handed out.
    committable: Option<i64>,
}

#[derive(Debug, Default)]
struct Inner {
    partitions: HashMap<TopicPartition, PartitionState>,
    next_epoch: u64,
}

impl PartitionState {
    /// A state under a new epoch, taken from `next_epoch`.
    fn new(next_epoch: &mut u64) -> Self {
        *next_epoch += 1;
        Self {
            epoch: *next_epoch,
            pending: VecDeque::new(),
            committable: None,
        }
    }
}

/// Per-partition ordered acknowledgement tracker, shared by the consumer loop, the producer's
/// delivery callback and the rebalance callback.
#[derive(Debug, Default)]
pub struct OffsetTracker {
    inner: Mutex<Inner>,
    /// Signalled whenever a record is acknowledged or forgotten.
    changed: Condvar,
}

impl OffsetTracker {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock would leave offsets inconsistent only in ways the
        // broker tolerates (we might store less, never more), so recover the guard.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts a new epoch for each newly assigned partition.
    pub fn assign(&self, tps: &[TopicPartition]) {
        let mut inner = self.lock();
        let Inner {
            partitions,
            next_epoch,
        } = &mut *inner;
        for tp in tps {
            partitions.insert(tp.clone(), PartitionState::new(next_epoch));
        }
    }

    /// Forgets revoked partitions and returns, for each, the offset still to be stored.
    /// Records of those partitions still in flight will be ignored when acknowledged.
    pub fn revoke(&self, tps: &[TopicPartition]) -> Vec<(TopicPartition, i64)> {
        let mut inner = self.lock();
        let out = tps
            .iter()
            .filter_map(|tp| {
                let state = inner.partitions.remove(tp)?;
                state.committable.map(|offset| (tp.clone(), offset))
            })
            .collect();
        self.changed.notify_all();
        out
    }

    /// Registers a consumed record. Offsets of a partition must arrive in increasing order;
    /// an offset at or below one already tracked means the consumer was rewound, and the
    /// partition starts a new epoch so older acknowledgements cannot move it.
    pub fn track(&self, topic: &str, partition: i32, offset: i64) -> Ticket {
        let mut inner = self.lock();
        let tp = (topic.to_string(), partition);
        let Inner {
            partitions,
            next_epoch,
        } = &mut *inner;
        let state = partitions
            .entry(tp.clone())
            .or_insert_with(|| PartitionState::new(next_epoch));
        if state
            .pending
            .back()
            .is_some_and(|&(last, _)| offset <= last)
        {
            *state = PartitionState::new(next_epoch);
        }
        state.pending.push_back((offset, false));
        Ticket {
            tp,
            offset,
            epoch: state.epoch,
        }
    }

    /// Marks a record's output acknowledged. Returns `true` when this moved the partition's
    /// committable offset.
    pub fn ack(&self, ticket: &Ticket) -> bool {
        let mut inner = self.lock();
        let Some(state) = inner.partitions.get_mut(&ticket.tp) else {
            return false;
        };
        if state.epoch != ticket.epoch {
            return false;
        }
        // Offsets are increasing within an epoch, so the entry can be found by binary search.
        let Ok(index) = state
            .pending
            .binary_search_by_key(&ticket.offset, |&(o, _)| o)
        else {
            return false;
        };
        state.pending[index].1 = true;
        let mut advanced = false;
        while let Some(&(offset, true)) = state.pending.front() {
            state.pending.pop_front();
            state.committable = Some(offset + 1);
            advanced = true;
        }
        drop(inner);
        self.changed.notify_all();
        advanced
    }

    /// Takes every partition's committable offset that has not been handed out yet.
    pub fn take_committable(&self) -> Vec<(TopicPartition, i64)> {
        let mut inner = self.lock();
        inner
            .partitions
            .iter_mut()
            .filter_map(|(tp, state)| state.committable.take().map(|o| (tp.clone(), o)))
            .collect()
    }

    /// Records tracked but not yet acknowledged, over all partitions (or the given ones).
    pub fn unacknowledged(&self, only: Option<&[TopicPartition]>) -> usize {
        let inner = self.lock();
        inner
            .partitions
            .iter()
            .filter(|(tp, _)| only.is_none_or(|set| set.contains(tp)))
            .map(|(_, s)| s.pending.len())
            .sum()
    }

    /// Blocks the calling thread until nothing (in `only`, or anywhere) is unacknowledged, or
    /// until `timeout`. Returns the number still unacknowledged.
    pub fn wait_acknowledged(&self, only: Option<&[TopicPartition]>, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        let mut inner = self.lock();
        loop {
            let left: usize = inner
                .partitions
                .iter()
                .filter(|(tp, _)| only.is_none_or(|set| set.contains(tp)))
                .map(|(_, s)| s.pending.len())
                .sum();
            let now = Instant::now();
            if left == 0 || now >= deadline {
                return left;
            }
            inner = match self.changed.wait_timeout(inner, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(p: i32) -> TopicPartition {
        ("t".to_string(), p)
    }

    #[test]
    fn commits_only_contiguous_prefix() {
        let tracker = OffsetTracker::new();
        let tickets: Vec<_> = (10..15).map(|o| tracker.track("t", 0, o)).collect();
        // Acknowledge out of order: 12, 13, then 10, then 11, then 14.
        assert!(!tracker.ack(&tickets[2]));
        assert!(!tracker.ack(&tickets[3]));
        assert!(tracker.take_committable().is_empty());
        assert!(tracker.ack(&tickets[0]));
        assert_eq!(tracker.take_committable(), vec![(tp(0), 11)]);
        assert!(tracker.ack(&tickets[1]));
        assert_eq!(tracker.take_committable(), vec![(tp(0), 14)]);
        assert_eq!(tracker.unacknowledged(None), 1);
        assert!(tracker.ack(&tickets[4]));
        assert_eq!(tracker.take_committable(), vec![(tp(0), 15)]);
        assert!(tracker.take_committable().is_empty(), "handed out once");
    }

    #[test]
    fn partitions_are_independent() {
        let tracker = OffsetTracker::new();
        let a = tracker.track("t", 0, 0);
        let b = tracker.track("t", 1, 0);
        let _a2 = tracker.track("t", 0, 1);
        tracker.ack(&b);
        assert_eq!(tracker.take_committable(), vec![(tp(1), 1)]);
        tracker.ack(&a);
        assert_eq!(tracker.take_committable(), vec![(tp(0), 1)]);
    }

    #[test]
    fn stale_epoch_after_revoke_is_ignored() {
        let tracker = OffsetTracker::new();
        tracker.assign(&[tp(0)]);
        let old = tracker.track("t", 0, 5);
        let done = tracker.track("t", 0, 4 + 2);
        // Revoke before anything is acknowledged: nothing to store.
        assert!(tracker.revoke(&[tp(0)]).is_empty());
        tracker.assign(&[tp(0)]);
        let new = tracker.track("t", 0, 5);
        assert!(
            !tracker.ack(&old),
            "ack from the previous assignment must not count"
        );
        assert!(!tracker.ack(&done));
        assert!(tracker.take_committable().is_empty());
        assert!(tracker.ack(&new));
        assert_eq!(tracker.take_committable(), vec![(tp(0), 6)]);
    }

    #[test]
    fn revoke_returns_pending_committable() {
        let tracker = OffsetTracker::new();
        let t = tracker.track("t", 3, 0);
        let _unacked = tracker.track("t", 3, 1);
        tracker.ack(&t);
        assert_eq!(tracker.revoke(&[tp(3)]), vec![(tp(3), 1)]);
        assert_eq!(tracker.unacknowledged(None), 0);
    }

    #[test]
    fn rewind_starts_a_new_epoch() {
        let tracker = OffsetTracker::new();
        let first = tracker.track("t", 0, 7);
        let again = tracker.track("t", 0, 7);
        assert!(!tracker.ack(&first));
        assert!(tracker.ack(&again));
        assert_eq!(tracker.take_committable(), vec![(tp(0), 8)]);
    }

    #[test]
    fn wait_returns_when_acknowledged_from_another_thread() {
        let tracker = std::sync::Arc::new(OffsetTracker::new());
        let ticket = tracker.track("t", 0, 0);
        let other = tracker.clone();
        let handle = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            other.ack(&ticket);
        });
        assert_eq!(tracker.wait_acknowledged(None, Duration::from_secs(10)), 0);
        handle.join().expect("ack thread");
        let _stuck = tracker.track("t", 1, 0);
        assert_eq!(
            tracker.wait_acknowledged(Some(&[tp(1)]), Duration::from_millis(10)),
            1
        );
    }
}
