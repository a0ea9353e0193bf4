//! The engine's clock: the system clock, or a virtual one that starts at the
//! Unix epoch and jumps to the next timer when nothing else can run.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Clone, Debug)]
pub enum Clock {
    Real,
    Virtual(Rc<Cell<i64>>),
}

impl Clock {
    pub fn virtual_at_epoch() -> Clock {
        Clock::Virtual(Rc::new(Cell::new(0)))
    }

    pub fn is_virtual(&self) -> bool {
        matches!(self, Clock::Virtual(_))
    }

    /// Milliseconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        match self {
            Clock::Real => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
            Clock::Virtual(t) => t.get(),
        }
    }

    /// Waits until `t`: sleeps on the real clock, jumps on the virtual one.
    pub fn wait_until(&self, t: i64) {
        match self {
            Clock::Real => {
                let now = self.now();
                if t > now {
                    std::thread::sleep(Duration::from_millis((t - now) as u64));
                }
            }
            Clock::Virtual(now) => {
                if t > now.get() {
                    now.set(t);
                }
            }
        }
    }
}
