//! The engine's clock: the system clock, or a virtual one that starts at the
//! Unix epoch and jumps to the next timer when nothing else can run.
//!
//! Clones share one setting, so the engine and the natives (`now()`) always
//! agree, even when the REPL switches between real and virtual time.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Clone, Debug)]
pub struct Clock {
    /// `Some(now)` on the virtual clock; `None` on the real one.
    virtual_now: Rc<Cell<Option<i64>>>,
}

impl Clock {
    pub fn real() -> Clock {
        Clock {
            virtual_now: Rc::new(Cell::new(None)),
        }
    }

    pub fn virtual_at_epoch() -> Clock {
        Clock {
            virtual_now: Rc::new(Cell::new(Some(0))),
        }
    }

    pub fn is_virtual(&self) -> bool {
        self.virtual_now.get().is_some()
    }

    /// Switches to virtual time (starting at the current real time, so that
    /// waiting timers keep their order and distance) or back to real time.
    pub fn set_virtual(&self, on: bool) {
        match (on, self.virtual_now.get()) {
            (true, None) => self.virtual_now.set(Some(system_now())),
            (false, Some(_)) => self.virtual_now.set(None),
            _ => {}
        }
    }

    /// Milliseconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        self.virtual_now.get().unwrap_or_else(system_now)
    }

    /// Waits until `t`: sleeps on the real clock, jumps on the virtual one.
    pub fn wait_until(&self, t: i64) {
        match self.virtual_now.get() {
            None => {
                let now = system_now();
                if t > now {
                    std::thread::sleep(Duration::from_millis((t - now) as u64));
                }
            }
            Some(now) => {
                if t > now {
                    self.virtual_now.set(Some(t));
                }
            }
        }
    }
}

fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
