//! The audit trail's buffer and its writer thread.
//!
//! Recording threads append their lines to shards of the buffer (a thread keeps to its own shard,
//! so that two cores recording at once do not take turns on one lock and one cache line); a thread
//! of its own takes every shard [`FLUSH_EVERY`] after a batch's first line (or as soon as a shard
//! holds [`FLUSH_AT`] bytes, or a flush is asked for), puts the batch's lines back in the order
//! they were numbered in, and writes them with one call. While nothing is recorded it sleeps.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long the writer gathers lines after a batch's first one before it writes them.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// A shard this large is written at once.
pub(crate) const FLUSH_AT: usize = 64 * 1024;
/// Recording waits while this much is not yet written (a stalled disk or terminal), shared
/// between the shards.
pub(crate) const BACKLOG: usize = 4 * 1024 * 1024;

/// Lines recorded by one group of threads, not yet taken by the writer.
#[derive(Default)]
struct Shard {
    bytes: Vec<u8>,
    /// Each line's number and where it ends in `bytes`.
    lines: Vec<(u64, usize)>,
}

/// A shard's lock on a cache line of its own.
#[repr(align(128))]
#[derive(Default)]
struct Padded(Mutex<Shard>);

#[derive(Default)]
struct Control {
    /// Batches begun by the writer so far, and written so far.
    taken: u64,
    done: u64,
    flush_requested: bool,
    /// A shard reached [`FLUSH_AT`] or its share of [`BACKLOG`].
    full: bool,
    closed: bool,
    /// Recorders and flushers waiting on `written`: the writer wakes them only when some are.
    waiting: usize,
}

struct Shared {
    shards: Box<[Padded]>,
    /// What a shard may hold before its recorders wait for the writer.
    shard_backlog: usize,
    control: Mutex<Control>,
    /// Wakes the writer: a first line, a full shard, a flush, the end.
    wake: Condvar,
    /// Wakes recorders and flushers: a batch was written.
    written: Condvar,
    /// The writer sleeps until a line is recorded: the recorder that sees this wakes it.
    idle: AtomicBool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The shard the current thread records into.
fn shard_of_this_thread(shards: usize) -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SLOT: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    SLOT.with(|slot| *slot % shards)
}

impl Shared {
    /// Wakes the writer (which sleeps, or gathers a batch), marking a shard full if `full`.
    fn wake_writer(&self, full: bool) {
        let mut control = lock(&self.control);
        control.full |= full;
        self.idle.store(false, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Waits (at most `limit`) for the writer to finish a batch, counted among its waiters.
    fn wait_written<'a>(
        &self,
        mut control: MutexGuard<'a, Control>,
        limit: Duration,
    ) -> MutexGuard<'a, Control> {
        control.waiting += 1;
        let mut control = self
            .written
            .wait_timeout(control, limit)
            .unwrap_or_else(|e| e.into_inner())
            .0;
        control.waiting -= 1;
        control
    }

    fn any_recorded(&self) -> bool {
        self.shards
            .iter()
            .any(|shard| !lock(&shard.0).bytes.is_empty())
    }
}

/// The buffer and its writer thread: writes everything recorded, then stops, when dropped.
pub(crate) struct Batches {
    shared: Arc<Shared>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Batches {
    /// Starts the writer thread, writing to `out`.
    pub(crate) fn start(out: Box<dyn Write + Send>) -> Self {
        let count = std::thread::available_parallelism()
            .map_or(4, usize::from)
            .clamp(1, 32)
            * 2;
        let shared = Arc::new(Shared {
            shards: (0..count).map(|_| Padded::default()).collect(),
            shard_backlog: BACKLOG / count,
            control: Mutex::new(Control::default()),
            wake: Condvar::new(),
            written: Condvar::new(),
            idle: AtomicBool::new(false),
        });
        let handle = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("mcp-actions-audit".into())
                .spawn(move || write_batches(&shared, out))
                .expect("starting the audit writer thread")
        };
        Self {
            shared,
            writer: Some(handle),
        }
    }

    /// Records `line` (a whole line, newline included) as line number `number`: the lines of a
    /// batch are written in the order of their numbers.
    pub(crate) fn push(&self, number: u64, line: &[u8]) {
        let shared = &*self.shared;
        let shard = &shared.shards[shard_of_this_thread(shared.shards.len())].0;
        loop {
            let mut recorded = lock(shard);
            let before = recorded.bytes.len();
            if before < shared.shard_backlog {
                recorded.bytes.extend_from_slice(line);
                let end = recorded.bytes.len();
                recorded.lines.push((number, end));
                drop(recorded);
                let full = before < FLUSH_AT && end >= FLUSH_AT;
                if full || shared.idle.load(Ordering::SeqCst) {
                    shared.wake_writer(full);
                }
                return;
            }
            drop(recorded);
            // A backlog: wait for the writer to take it.
            let mut control = lock(&shared.control);
            if control.closed {
                return;
            }
            control.full = true;
            shared.wake.notify_one();
            drop(shared.wait_written(control, FLUSH_EVERY));
        }
    }

    /// Waits (at most 5 s) until every line pushed so far is written and flushed.
    pub(crate) fn flush(&self) {
        let shared = &*self.shared;
        let mut control = lock(&shared.control);
        let target = control.taken + 1;
        control.flush_requested = true;
        shared.wake.notify_one();
        let deadline = Instant::now() + Duration::from_secs(5);
        while control.done < target && !control.closed {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            control = shared.wait_written(control, left);
        }
    }
}

impl Drop for Batches {
    fn drop(&mut self) {
        self.flush();
        lock(&self.shared.control).closed = true;
        self.shared.wake.notify_one();
        if let Some(handle) = self.writer.take() {
            let _ = handle.join();
        }
    }
}

/// The writer thread: sleeps until a line is recorded, gathers more for [`FLUSH_EVERY`] (less
/// when a shard fills or a flush is asked for), then writes them, in order, with one call.
fn write_batches(shared: &Shared, mut out: Box<dyn Write + Send>) {
    // Each shard's taken lines: swapped with the shard's own, so that allocations are reused
    // rather than freed on this thread after the recording threads made them.
    let mut taken: Vec<Shard> = shared.shards.iter().map(|_| Shard::default()).collect();
    let mut order: Vec<(u64, usize, usize, usize)> = Vec::new();
    let mut batch: Vec<u8> = Vec::new();
    loop {
        let (id, closing) = {
            let mut control = lock(&shared.control);
            let due = |c: &Control| c.flush_requested || c.full || c.closed;
            // Asleep while nothing is recorded: the next recorder sees `idle` and wakes it. It
            // is set before the shards are looked at, so a line recorded after the look sees it.
            while !due(&control) {
                shared.idle.store(true, Ordering::SeqCst);
                if shared.any_recorded() {
                    break;
                }
                control = shared.wake.wait(control).unwrap_or_else(|e| e.into_inner());
            }
            shared.idle.store(false, Ordering::SeqCst);
            let deadline = Instant::now() + FLUSH_EVERY;
            while !due(&control) {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                control = shared
                    .wake
                    .wait_timeout(control, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            control.flush_requested = false;
            control.full = false;
            control.taken += 1;
            (control.taken, control.closed)
        };
        for (shard, mine) in shared.shards.iter().zip(taken.iter_mut()) {
            std::mem::swap(&mut *lock(&shard.0), mine);
        }
        write_in_order(&mut taken, &mut order, &mut batch, &mut *out);
        let _ = out.flush();
        let waiting = {
            let mut control = lock(&shared.control);
            control.done = id;
            control.waiting > 0
        };
        if waiting {
            shared.written.notify_all();
        }
        if closing {
            return;
        }
    }
}

/// Writes the lines of `taken` (every shard's) in the order of their numbers, with one call,
/// and empties the shards (keeping up to two batches' worth of their allocations).
fn write_in_order(
    taken: &mut [Shard],
    order: &mut Vec<(u64, usize, usize, usize)>,
    batch: &mut Vec<u8>,
    out: &mut dyn Write,
) {
    order.clear();
    for (index, shard) in taken.iter().enumerate() {
        let mut start = 0;
        for &(number, end) in &shard.lines {
            order.push((number, index, start, end));
            start = end;
        }
    }
    if !order.is_empty() {
        order.sort_unstable_by_key(|&(number, ..)| number);
        batch.clear();
        for &(_, index, start, end) in order.iter() {
            batch.extend_from_slice(&taken[index].bytes[start..end]);
        }
        let _ = out.write_all(batch);
        batch.shrink_to(2 * FLUSH_AT);
    }
    for shard in taken {
        shard.bytes.clear();
        shard.lines.clear();
        shard.bytes.shrink_to(2 * FLUSH_AT);
        shard.lines.shrink_to(2 * FLUSH_AT / 256);
    }
}
