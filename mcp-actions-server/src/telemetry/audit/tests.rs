use std::sync::{Arc, Mutex as StdMutex};
use std::time::Instant;

use serde_json::json;

use super::batches::{FLUSH_AT, FLUSH_EVERY};
use super::*;

#[derive(Clone, Default)]
struct Buffer(Arc<StdMutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A slow terminal: each write takes a millisecond; it counts writes and flushes.
#[derive(Clone, Default)]
struct Slow {
    writes: Arc<AtomicU64>,
    flushes: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
}

impl Write for Slow {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        std::thread::sleep(Duration::from_millis(1));
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.flushes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

fn call_event(i: usize) -> AuditEvent {
    AuditEvent::new(
        "mcp-actions.tool-execution",
        Actor {
            principal: Some(format!("service:s{i}")),
            authentication: "static",
            ..Actor::default()
        },
        Target {
            tool: Some("greet_user".into()),
            server: "default".into(),
            ..Target::default()
        },
    )
}

#[test]
fn a_steady_stream_of_events_is_written_in_batches_not_line_by_line() {
    // Events come every 0.2 ms and a write takes 1 ms: a writer that wrote whatever was
    // there as soon as it was free would make a write per handful of events.
    let slow = Slow::default();
    let audit = Audit::to_writer(Box::new(slow.clone()), false);
    let start = Instant::now();
    let events = 600;
    for i in 0..events {
        audit.record(&call_event(i));
        std::thread::sleep(Duration::from_micros(200));
    }
    audit.flush();
    let elapsed = start.elapsed();
    let bytes = slow.bytes.load(Ordering::Relaxed);
    let writes = slow.writes.load(Ordering::Relaxed);
    // One write per FLUSH_AT bytes, one per FLUSH_EVERY of recording, and the flush.
    let batches =
        bytes / FLUSH_AT as u64 + (elapsed.as_millis() / FLUSH_EVERY.as_millis()) as u64 + 2;
    assert!(bytes > 100 * events as u64, "{bytes} bytes written");
    assert!(
        writes <= batches,
        "{writes} writes for {events} events over {elapsed:?} ({bytes} bytes): at most \
         {batches} batches expected"
    );
}

#[test]
fn events_recorded_on_several_threads_are_each_written_once_and_whole() {
    let buffer = Buffer::default();
    let audit = Arc::new(Audit::to_writer(Box::new(buffer.clone()), false));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let audit = Arc::clone(&audit);
            std::thread::spawn(move || {
                for i in 0..250 {
                    audit.record(&call_event(t * 1000 + i));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    audit.flush();
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    // Each line whole (it parses), each event once; ids are in order within a batch (a
    // thread can take its number, then be descheduled past a batch boundary).
    let mut ids: Vec<u64> = text
        .lines()
        .map(|line| {
            let event: Value = serde_json::from_str(line).unwrap();
            let id = event["eventId"].as_str().unwrap();
            u64::from_str_radix(&id[16..], 16).unwrap()
        })
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..1000).collect::<Vec<u64>>());
    let mut principals: Vec<&str> = text
        .lines()
        .map(|line| line.split("\"principal\":\"").nth(1).unwrap())
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    principals.sort_unstable();
    principals.dedup();
    assert_eq!(principals.len(), 1000, "every event once");
}

/// A stalled disk: writes wait until the test opens the gate.
#[derive(Clone, Default)]
struct Gate {
    open: Arc<(StdMutex<bool>, std::sync::Condvar)>,
    written: Buffer,
}

impl Gate {
    fn open(&self) {
        *self.open.0.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.open.1.notify_all();
    }
}

/// Opens the gate when dropped, so that a failing test ends instead of waiting forever.
struct OpenOnDrop(Gate);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

impl Write for Gate {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let (open, opened) = &*self.open;
        let mut open = open.lock().unwrap();
        while !*open {
            open = opened.wait(open).unwrap();
        }
        self.written.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_stalled_writer_holds_recorders_back_and_loses_nothing() {
    let gate = Gate::default();
    let audit = Arc::new(Audit::to_writer(Box::new(gate.clone()), false));
    // Dropped before `audit` (whose drop waits for the writer), should an assertion fail.
    let _opened_at_the_end = OpenOnDrop(gate.clone());
    let recorded = Arc::new(AtomicU64::new(0));
    let events = 20_000; // ~7 MB, more than BACKLOG
    let recorder = {
        let (audit, recorded) = (Arc::clone(&audit), Arc::clone(&recorded));
        std::thread::spawn(move || {
            for i in 0..events {
                audit.record(&call_event(i));
                recorded.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    // Without a backlog limit the recorder would be done in milliseconds.
    std::thread::sleep(3 * FLUSH_EVERY);
    let held_at = recorded.load(Ordering::Relaxed);
    assert!(
        held_at < events as u64,
        "all {events} recorded while nothing was written"
    );
    gate.open();
    recorder.join().unwrap();
    audit.flush();
    let lines = gate
        .written
        .0
        .lock()
        .unwrap()
        .split(|b| *b == b'\n')
        .count()
        - 1;
    assert_eq!(lines, events, "held back at {held_at}");
}

#[test]
fn an_idle_writer_sleeps_until_an_event_comes() {
    let slow = Slow::default();
    let audit = Audit::to_writer(Box::new(slow.clone()), false);
    // Three times FLUSH_EVERY with nothing recorded: the writer does not wake to write
    // (or flush) nothing.
    std::thread::sleep(3 * FLUSH_EVERY);
    assert_eq!(slow.flushes.load(Ordering::Relaxed), 0);
    audit.record(&call_event(1));
    audit.flush();
    assert_eq!(slow.writes.load(Ordering::Relaxed), 1);
    assert!(slow.flushes.load(Ordering::Relaxed) >= 1);
}

#[test]
fn every_event_is_one_json_line_written_by_flush() {
    let buffer = Buffer::default();
    let audit = Audit::to_writer(Box::new(buffer.clone()), false);
    for i in 0..100 {
        audit.record(&call_event(i).failed("NotFoundError"));
    }
    audit.flush();
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 100);
    assert_eq!(lines[7]["actor"]["principal"], "service:s7");
    assert_eq!(lines[7]["outcome"], "failed");
    assert_eq!(lines[7]["error"], "NotFoundError");
    assert_eq!(lines[7]["event"], "mcp-actions.tool-execution");
    assert!(lines[7]["time"].as_str().unwrap().ends_with('Z'));
    let ids: Vec<&str> = lines
        .iter()
        .map(|l| l["eventId"].as_str().unwrap())
        .collect();
    assert!(ids.iter().all(|id| {
        id.len() == 32
            && id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }));
    // One process prefix, then the count in hexadecimal.
    assert!(ids.iter().all(|id| id[..16] == ids[0][..16]));
    assert_eq!(
        u64::from_str_radix(&ids[7][16..], 16).unwrap()
            - u64::from_str_radix(&ids[0][16..], 16).unwrap(),
        7
    );
    // The time and the id come first, then the event's members.
    let first = text.lines().next().unwrap();
    assert!(first.starts_with("{\"time\":\""), "{first}");
    assert!(first.contains("Z\",\"eventId\":\""), "{first}");
    assert!(
        first.contains("\",\"event\":\"mcp-actions.tool-execution\""),
        "{first}"
    );
}

#[test]
fn a_line_has_its_members_in_order_and_escaped() {
    let buffer = Buffer::default();
    let audit = Audit::to_writer(Box::new(buffer.clone()), true);
    let full = AuditEvent {
        reference_id: Some("ref-1".into()),
        arguments: Some(json!({"name": "W\"o", "n": [1, 2.5]})),
        ..AuditEvent::new(
            "mcp-actions.tool-execution",
            Actor {
                principal: Some("user:default/j\"ane".into()),
                authentication: "jwt",
                client_address: Some("127.0.0.1:4000".into()),
                user_agent: Some("agent\u{1}/é".into()),
            },
            Target {
                tool: Some("greet_user".into()),
                action_id: Some("greet:greet-user".into()),
                server: "default".into(),
                api: Some("backstage-actions"),
            },
        )
        .failed("InternalError")
        .took(Duration::from_micros(1500))
    };
    audit.record(&full);
    audit.record(&AuditEvent::new(
        "mcp-actions.connection",
        Actor::default(),
        Target::default(),
    ));
    audit.flush();
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let members: Vec<&str> = text
        .lines()
        .map(|line| &line[line.find("\",\"event\":").unwrap()..])
        .collect();
    assert_eq!(
        members,
        [
            concat!(
                r#"","event":"mcp-actions.tool-execution","severity":"warn","#,
                r#""actor":{"principal":"user:default/j\"ane","authentication":"jwt","#,
                r#""clientAddress":"127.0.0.1:4000","userAgent":"agent\u0001/é"},"#,
                r#""target":{"tool":"greet_user","actionId":"greet:greet-user","#,
                r#""server":"default","api":"backstage-actions"},"outcome":"failed","#,
                r#""error":"InternalError","referenceId":"ref-1","durationMs":1.5,"#,
                r#""arguments":{"n":[1,2.5],"name":"W\"o"}}"#
            ),
            concat!(
                r#"","event":"mcp-actions.connection","severity":"info","#,
                r#""actor":{"authentication":""},"target":{"server":""},"#,
                r#""outcome":"succeeded","durationMs":0.0}"#
            ),
        ]
    );
}

#[test]
fn hex_is_sixteen_digits() {
    let mut line = Vec::new();
    push_hex(&mut line, 0x0123_4567_89ab_cdef);
    push_hex(&mut line, 10);
    assert_eq!(line, b"0123456789abcdef000000000000000a");
}

#[test]
fn secret_looking_keys_are_redacted_at_any_depth() {
    let value = json!({
        "name": "x",
        "apiKey": "k1",
        "nested": { "Password": "p", "list": [{ "accessToken": "t", "ok": 1 }] }
    });
    assert_eq!(
        redacted(&value),
        json!({
            "name": "x",
            "apiKey": "***",
            "nested": { "Password": "***", "list": [{ "accessToken": "***", "ok": 1 }] }
        })
    );
}
