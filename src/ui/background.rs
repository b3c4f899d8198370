//! Work too large for one frame (reading every weight of a 20-million-parameter network) done on
//! a thread of its own, while the window keeps drawing the last result.

use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use super::fault::contain;

/// Above this many values, the work on them is done on a thread (20 million take about a tenth
/// of a second); below it, at once in the frame that asks.
pub const INLINE_VALUES: usize = 1 << 20;

type Pending<K, V> = (K, mpsc::Receiver<Result<V, String>>, JoinHandle<()>);

/// The value for the last key asked for, made at once when small, else on a thread; the previous
/// value is kept until then. One thread at a time: a key asked for while another is being made is
/// started when that one is done.
pub struct Background<K, V> {
    name: &'static str,
    done: Option<(K, V)>,
    /// The key being made, where its value (or its panic's message) arrives, and its thread.
    pending: Option<Pending<K, V>>,
}

impl<K: PartialEq, V: Send + 'static> Background<K, V> {
    /// `name`: the thread's, for a debugger or a panic message.
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            done: None,
            pending: None,
        }
    }

    /// The latest value made and its key, after asking for `key`'s. `values`: how many numbers
    /// `make` reads, which decides where it runs.
    pub fn get(
        &mut self,
        ctx: &egui::Context,
        key: K,
        values: usize,
        make: impl FnOnce() -> V + Send + 'static,
    ) -> Option<&(K, V)> {
        self.take_finished();
        let asked = |entry: &Option<(K, _)>| entry.as_ref().is_some_and(|(k, _)| *k == key);
        if asked(&self.done) || self.pending.is_some() {
            return self.done.as_ref();
        }
        if values <= INLINE_VALUES {
            self.done = Some((key, make()));
            return self.done.as_ref();
        }
        let (sender, receiver) = mpsc::channel();
        let repaint = ctx.clone();
        // shared, so that a thread that cannot be started gives the work back
        let job = Arc::new(Mutex::new(Some(make)));
        let spawned = std::thread::Builder::new().name(self.name.into()).spawn({
            let job = job.clone();
            move || {
                let make = job.lock().ok().and_then(|mut job| job.take());
                if let Some(make) = make
                    && sender.send(contain(make)).is_ok()
                {
                    repaint.request_repaint();
                }
            }
        });
        match spawned {
            Ok(thread) => self.pending = Some((key, receiver, thread)),
            // no thread to be had: here, then
            Err(_) => {
                if let Some(make) = job.lock().ok().and_then(|mut job| job.take()) {
                    self.done = Some((key, make()));
                }
            }
        }
        self.done.as_ref()
    }

    /// Waits for the value being made, if any (tests: the window never waits).
    #[cfg(test)]
    fn wait(&mut self) {
        if let Some((key, receiver, _)) = self.pending.take()
            && let Ok(Ok(value)) = receiver.recv()
        {
            self.done = Some((key, value));
        }
    }

    /// Keeps a value a thread finished; a panic on the thread is raised here, so that the view
    /// that asked stops as if it had panicked itself.
    fn take_finished(&mut self) {
        let Some((_, receiver, _)) = &self.pending else {
            return;
        };
        let made = match receiver.try_recv() {
            Ok(made) => made,
            Err(mpsc::TryRecvError::Empty) => return,
            Err(mpsc::TryRecvError::Disconnected) => Err("it ended without a result".into()),
        };
        let (key, _, _) = self.pending.take().expect("matched just above");
        match made {
            Ok(value) => self.done = Some((key, value)),
            Err(message) => panic!("the {} thread stopped: {message}", self.name),
        }
    }
}

/// No thread outlives its owner (a closed window): the work under way, a tenth of a second at
/// most, is finished and dropped.
impl<K, V> Drop for Background<K, V> {
    fn drop(&mut self) {
        if let Some((_, _, thread)) = self.pending.take() {
            // a panic there was already caught and sent
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LARGE: usize = INLINE_VALUES + 1;

    #[test]
    fn small_work_is_done_at_once_and_not_again_for_the_same_key() {
        let ctx = egui::Context::default();
        let mut background = Background::new("test");
        assert_eq!(background.get(&ctx, 1, 10, || "one"), Some(&(1, "one")));
        assert_eq!(background.get(&ctx, 1, 10, || "again"), Some(&(1, "one")));
        assert_eq!(background.get(&ctx, 2, 10, || "two"), Some(&(2, "two")));
    }

    #[test]
    fn large_work_arrives_from_a_thread_while_the_last_value_is_shown() {
        let ctx = egui::Context::default();
        let mut background = Background::new("test");
        let key_shown = |shown: Option<&(u32, Option<String>)>| shown.map(|(key, _)| *key);
        assert_eq!(background.get(&ctx, 1, 10, || None), Some(&(1, None)));
        let (release, hold) = mpsc::channel::<()>();
        let shown = background.get(&ctx, 2, LARGE, move || {
            hold.recv().expect("released");
            std::thread::current().name().map(str::to_owned)
        });
        // the thread is held: key 1's value is what there is, and a newer key waits its turn
        assert_eq!(key_shown(shown), Some(1));
        assert_eq!(key_shown(background.get(&ctx, 3, 10, || None)), Some(1));
        release.send(()).expect("the thread waits");
        background.wait();
        assert_eq!(
            background.done,
            Some((2, Some("test".to_owned()))),
            "made on a thread of that name"
        );
        assert_eq!(background.get(&ctx, 3, 10, || None), Some(&(3, None)));
    }

    #[test]
    fn dropping_it_waits_for_its_thread_so_nothing_it_read_outlives_it() {
        let ctx = egui::Context::default();
        let mut background = Background::new("test");
        let (release, hold) = mpsc::channel::<()>();
        let read = Arc::new(vec![1.0f32; 8]);
        let held = Arc::downgrade(&read);
        background.get(&ctx, 1, LARGE, move || {
            hold.recv().expect("released");
            read.iter().sum::<f32>()
        });
        release.send(()).expect("the thread waits");
        drop(background);
        assert!(
            held.upgrade().is_none(),
            "the thread still holds what it read"
        );
    }

    #[test]
    fn a_thread_that_panics_stops_the_view_that_asked() {
        let ctx = egui::Context::default();
        let mut background: Background<u32, u32> = Background::new("statistics");
        background.get(&ctx, 1, LARGE, || panic!("on purpose"));
        let started = std::time::Instant::now();
        let stopped = loop {
            let asked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                background.get(&ctx, 1, 10, || 0).is_some()
            }));
            match asked {
                Err(payload) => break payload,
                Ok(shown) => assert!(!shown, "nothing was made"),
            }
            assert!(started.elapsed().as_secs() < 30, "the thread never ended");
            std::thread::yield_now();
        };
        assert_eq!(
            crate::train::worker::panic_message(stopped.as_ref()),
            "the statistics thread stopped: on purpose"
        );
        // asked again (the view restarted), the work is tried again
        assert_eq!(background.get(&ctx, 1, 10, || 7), Some(&(1, 7)));
    }
}
