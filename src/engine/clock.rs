//! The engine's clock: the system clock, or a virtual one that starts at the
//! Unix epoch and jumps to the next timer when nothing else can run.
//!
//! While native jobs are outstanding, virtual time passes at real speed: a
//! job takes real time, so `timeout(1s, call(sh, "sleep 3"))` times out on
//! either clock. Only when nothing but timers is left does it jump.
//!
//! Clones share one setting, so the engine and the natives (`now()`) always
//! agree, even when the REPL switches between real and virtual time.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Clone, Debug)]
pub struct Clock {
    /// `Some(now)` on the virtual clock; `None` on the real one.
    virtual_now: Rc<Cell<Option<i64>>>,
    /// On the virtual clock, while jobs are outstanding: since when (real)
    /// and from what virtual time it runs at real speed.
    real_speed_since: Rc<Cell<Option<(Instant, i64)>>>,
}

impl Clock {
    pub fn real() -> Clock {
        Clock {
            virtual_now: Rc::new(Cell::new(None)),
            real_speed_since: Rc::new(Cell::new(None)),
        }
    }

    pub fn virtual_at_epoch() -> Clock {
        Clock {
            virtual_now: Rc::new(Cell::new(Some(0))),
            real_speed_since: Rc::new(Cell::new(None)),
        }
    }

    /// A virtual clock that starts at `t` (ms since the epoch).
    pub fn virtual_at(t: i64) -> Clock {
        Clock {
            virtual_now: Rc::new(Cell::new(Some(t))),
            real_speed_since: Rc::new(Cell::new(None)),
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
            (false, Some(_)) => {
                self.virtual_now.set(None);
                self.real_speed_since.set(None);
            }
            _ => {}
        }
    }

    /// Tells the clock whether native jobs are outstanding: meanwhile,
    /// virtual time passes at real speed.
    pub fn set_jobs_running(&self, running: bool) {
        if self.virtual_now.get().is_none() {
            return;
        }
        match (running, self.real_speed_since.get()) {
            (true, None) => self
                .real_speed_since
                .set(Some((Instant::now(), self.now()))),
            (false, Some(_)) => {
                self.virtual_now.set(Some(self.now()));
                self.real_speed_since.set(None);
            }
            _ => {}
        }
    }

    /// Milliseconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        match (self.virtual_now.get(), self.real_speed_since.get()) {
            (None, _) => system_now(),
            (Some(_), Some((since, from))) => {
                from.saturating_add(since.elapsed().as_millis() as i64)
            }
            (Some(now), None) => now,
        }
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
            Some(_) if self.real_speed_since.get().is_some() => {
                let now = self.now();
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
