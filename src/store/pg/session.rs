//! Keeping a worker's sessions alive: the heartbeat that renews its
//! leases on a connection of its own, and reconnecting (with backoff) the
//! main connection when it drops.

use super::*;

impl PgStore {
    /// Renews this worker's leases every third of a lease, on its own
    /// connection, until the store is dropped. A renewal that fails is
    /// tried again with backoff (reconnecting if the connection was lost),
    /// said once per outage on stderr. Leases that run out meanwhile may
    /// be rescued by other workers: this worker's commits then refuse the
    /// work it did on those items (see [`PgStore::try_commit`]).
    pub(super) fn start_heartbeat(&mut self) -> Result<(), StoreError> {
        let client = Client::connect(&self.url, NoTls).map_err(|e| pg_error(&self.url, &e))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let worker = self.worker;
        let lease = self.options.lease_ms;
        let url = self.url.clone();
        let every = Duration::from_millis((lease / 3).max(10) as u64);
        std::thread::Builder::new()
            .name("voyager-heartbeat".into())
            .spawn(move || {
                let mut client = Some(client);
                let mut next = Instant::now() + every;
                let mut outage: Option<Instant> = None;
                let mut pause = Duration::from_millis(50);
                while !flag.load(Ordering::Relaxed) {
                    if Instant::now() < next {
                        std::thread::sleep(Duration::from_millis(20).min(every));
                        continue;
                    }
                    if client.is_none() {
                        client = Client::connect(&url, NoTls).ok();
                    }
                    // Rows the worker's own commit holds are skipped (the
                    // commit renews them): no deadlock with it.
                    let renewed = match client.as_mut() {
                        Some(c) => c
                            .execute(
                                "UPDATE voyager.items SET lease_until = voyager.now_ms() + $2
                                 WHERE id IN (SELECT id FROM voyager.items WHERE lease_owner = $1 FOR UPDATE SKIP LOCKED)",
                                &[&worker, &lease],
                            )
                            .map_err(|e| {
                                let text = pg_text(&e);
                                if connection_lost(&e) {
                                    client = None;
                                }
                                text
                            }),
                        None => Err("cannot connect".to_string()),
                    };
                    match renewed {
                        Ok(_) => {
                            if let Some(since) = outage.take() {
                                eprintln!(
                                    "voyager: this worker's leases are renewed again (after {:.1}s)",
                                    since.elapsed().as_secs_f64()
                                );
                            }
                            pause = Duration::from_millis(50);
                            next = Instant::now() + every;
                        }
                        Err(why) => {
                            if outage.is_none() {
                                outage = Some(Instant::now());
                                eprintln!(
                                    "warning[{}]: cannot renew this worker's leases on {}: {why}; retrying (items whose lease runs out meanwhile may be taken over by other workers, and what this one did with them is then not committed)",
                                    codes::STORE_UNREACHABLE,
                                    display_url(&url)
                                );
                            }
                            next = Instant::now() + pause;
                            pause = (pause * 2).min(every).min(RECONNECT_PAUSE);
                        }
                    }
                }
            })
            .map_err(|e| StoreError {
                code: codes::STORE_UNREADABLE,
                message: format!("cannot start the lease heartbeat: {e}"),
                hint: None,
                exit: EXIT_UNUSABLE,
            })?;
        self.heartbeat = Some(stop);
        Ok(())
    }

    /// Runs `f` on the connection; if the connection was lost, reconnects
    /// (with backoff, for up to [`RECONNECT_FOR`]) and runs it again.
    pub(super) fn retrying<T>(
        &mut self,
        mut f: impl FnMut(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        loop {
            match f(&mut self.client) {
                Ok(v) => return Ok(v),
                Err(e) if connection_lost(&e) => self.reconnect(&e)?,
                Err(e) => return Err(pg_error(&self.url, &e)),
            }
        }
    }

    /// Connects again after the connection was lost (`why`): with backoff,
    /// for up to [`RECONNECT_FOR`], said once on stderr. The worker's
    /// session lock and LISTEN are taken again, and leases on rows this
    /// worker does not know of (taken by a statement whose answer was
    /// lost) are handed back.
    pub(super) fn reconnect(&mut self, why: &postgres::Error) -> Result<(), StoreError> {
        self.reconnect_keeping(why, &[])
    }

    /// As [`PgStore::reconnect`], keeping the leases on `extra` rows too
    /// (written by a commit whose answer was lost).
    pub(super) fn reconnect_keeping(
        &mut self,
        why: &postgres::Error,
        extra: &[i64],
    ) -> Result<(), StoreError> {
        let started = Instant::now();
        let url = display_url(&self.url);
        eprintln!(
            "warning[{}]: lost the connection to the PostgreSQL store {url}: {}; reconnecting",
            codes::STORE_UNREACHABLE,
            pg_text(why)
        );
        let mut pause = Duration::from_millis(50);
        let known: Vec<i64> = self
            .ops
            .rows
            .values()
            .chain(self.ops.origin.values())
            .chain(self.ops.drop_rows.iter())
            .chain(self.ops.adopt.iter())
            .chain(extra.iter())
            .copied()
            .collect();
        loop {
            let attempt = Client::connect(&self.url, NoTls).and_then(|mut c| {
                if !self.options.poll_only {
                    c.batch_execute(&format!(
                        "SELECT pg_try_advisory_lock({}); LISTEN {CHANNEL};",
                        self.worker
                    ))?;
                }
                c.execute(
                    "UPDATE voyager.items SET lease_owner = NULL, lease_until = NULL, attempts = greatest(attempts - 1, 0)
                     WHERE lease_owner = $1 AND NOT (id = ANY($2))",
                    &[&self.worker, &known],
                )?;
                Ok(c)
            });
            match attempt {
                Ok(c) => {
                    self.client = c;
                    eprintln!(
                        "voyager: reconnected to {url} after {:.1}s",
                        started.elapsed().as_secs_f64()
                    );
                    return Ok(());
                }
                Err(e) => {
                    if started.elapsed() >= RECONNECT_FOR {
                        return Err(pg_error(&self.url, &e));
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(RECONNECT_PAUSE);
                }
            }
        }
    }
}
