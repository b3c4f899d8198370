//! A worker driven from a test: its updates collected and waited for through its repaint
//! signal, never by sleeping. Shared by the test files that talk to the worker directly.
#![allow(dead_code)]

use std::sync::mpsc;
use std::time::{Duration, Instant};

use backprop_lab::train::RunConfig;
use backprop_lab::train::protocol::{Command, Update};
use backprop_lab::train::worker::Worker;

const TIMEOUT: Duration = Duration::from_secs(60);

/// A worker on `config`, and the updates it sends, waited for through its repaint signal.
pub struct Run {
    pub worker: Worker,
    signal: mpsc::Receiver<()>,
    pub updates: Vec<Update>,
    /// Updates before this one were already matched by `until`.
    consumed: usize,
}

impl Run {
    pub fn start(config: RunConfig) -> Self {
        let (tx, signal) = mpsc::channel();
        let worker = Worker::spawn(config, move || {
            let _ = tx.send(());
        })
        .expect("the worker starts");
        Self {
            worker,
            signal,
            updates: Vec::new(),
            consumed: 0,
        }
    }

    /// Collects updates until one after the last matched satisfies `done`; returns it.
    pub fn until(&mut self, what: &str, done: impl Fn(&Update) -> bool) -> Update {
        let started = Instant::now();
        loop {
            self.updates.extend(self.worker.updates());
            if let Some(k) = self.updates[self.consumed..].iter().position(&done) {
                self.consumed += k + 1;
                return self.updates[self.consumed - 1].clone();
            }
            let left = TIMEOUT.saturating_sub(started.elapsed());
            if left.is_zero() {
                let kinds: Vec<String> = self.updates[self.consumed..]
                    .iter()
                    .map(|u| format!("{u:?}").chars().take(60).collect())
                    .collect();
                panic!("timed out waiting for {what}; since the last match: {kinds:#?}");
            }
            // the worker signals whenever it sent something
            let _ = self.signal.recv_timeout(left);
        }
    }

    /// The last status the worker sent once it has paused.
    pub fn paused(&mut self) -> backprop_lab::train::protocol::Status {
        match self.until(
            "a paused status",
            |u| matches!(u, Update::Status(s) if !s.running),
        ) {
            Update::Status(status) => status,
            _ => unreachable!(),
        }
    }
}

impl Run {
    /// Sends `command`; the worker's queue is never full in a test.
    pub fn send(&self, command: Command) {
        assert!(self.worker.send(command), "the worker took the command");
    }
}
