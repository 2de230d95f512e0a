//! `shelflife monitor` under a test NOTIFY_SOCKET, as systemd would run it (`Type=notify`,
//! `WatchdogSec=`): READY after the first round, STATUS each round, WATCHDOG pings while the loop
//! lives and none while it is wedged, STOPPING and exit 0 on SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::Child;
use std::time::{Duration, Instant};

use common::notify::Notify;
use common::{now, Harness, HungFuse};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use shelflife_sim::{MovieSpec, World};

fn world() -> World {
    World::new(now())
        .user("alice")
        .movie(MovieSpec::new("Old", 2001).watched("alice", 20.0))
}

/// A running monitor; killed if the test fails before [`stop`].
struct Monitor(Child);

impl Drop for Monitor {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn spawn_monitor(h: &Harness, notify: &Notify, watchdog: Duration) -> Monitor {
    let child = h
        .command(&["monitor"])
        .env("NOTIFY_SOCKET", &notify.path)
        .env("WATCHDOG_USEC", watchdog.as_micros().to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the monitor starts");
    Monitor(child)
}

/// SIGTERM, then the monitor must say STOPPING and exit 0 promptly.
fn stop(mut monitor: Monitor, notify: &mut Notify) {
    let child = &mut monitor.0;
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).expect("SIGTERM");
    assert!(
        notify.collect_until(Duration::from_secs(5), |t| t.contains("STOPPING=1")),
        "no STOPPING=1 after SIGTERM: {:?}",
        notify.seen
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert_eq!(status.code(), Some(0), "exit status {status:?}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the monitor did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitor_is_ready_reports_pings_and_stops_on_sigterm() {
    let h = Harness::start(world(), "[health]\ninterval = \"1s\"\n").await;
    let mut notify = Notify::bind(h.dir.path());
    let child = spawn_monitor(&h, &notify, Duration::from_millis(400));
    let notify = blocking(move || {
        assert!(
            notify.collect_until(Duration::from_secs(10), |t| t.contains("READY=1")),
            "no READY=1: {:?}",
            notify.seen
        );
        // A STATUS per 1 s round, a ping every 200 ms: three rounds and five pings.
        assert!(
            notify.collect_until_all(Duration::from_secs(20), |n| {
                n.all("STATUS=").len() >= 3 && n.all("WATCHDOG=1").len() >= 5
            }),
            "fewer than 3 rounds or 5 pings: {:?}",
            notify.seen
        );
        stop(child, &mut notify);
        notify
    })
    .await;

    let ready = &notify.all("READY=1")[0];
    assert!(
        ready.text.contains("STATUS=ok: "),
        "READY comes with the first round's status: {:?}",
        ready.text
    );

    let status = h.run(&["status"]).await;
    assert!(
        status.stdout.contains("Storage (monitor, ") && status.stdout.contains("ok: "),
        "the rounds are recorded: {status:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_mount_is_a_finding_not_a_wedge() {
    let Some(hung) = HungFuse::mount() else {
        return;
    };
    let extra = format!(
        "[health]\ninterval = \"1s\"\n\n[[health.mounts]]\npath = {:?}\ntimeout = \"1s\"\n",
        hung.path().display().to_string()
    );
    let h = Harness::start(world(), &extra).await;
    let mut notify = Notify::bind(h.dir.path());
    let child = spawn_monitor(&h, &notify, Duration::from_secs(3));
    let notify = blocking(move || {
        assert!(
            notify.collect_until(Duration::from_secs(10), |t| t.contains("READY=1")),
            "no READY=1: {:?}",
            notify.seen
        );
        // Each round waits 1 s on the hung mount and still completes, and the next round probes
        // afresh: the rounds and the pings go on.
        assert!(
            notify.collect_until_all(Duration::from_secs(20), |n| {
                n.all("STATUS=").len() >= 2 && n.all("WATCHDOG=1").len() >= 3
            }),
            "fewer than 2 rounds or 3 pings: {:?}",
            notify.seen
        );
        stop(child, &mut notify);
        notify
    })
    .await;
    let ready = &notify.all("READY=1")[0];
    assert!(
        ready.text.contains("STATUS=unhealthy: mount ")
            && ready.text.contains("did not answer within 1s"),
        "{:?}",
        ready.text
    );
    let rounds = notify.all("STATUS=");
    assert!(
        rounds.iter().all(|m| m.text.contains("did not answer")),
        "{rounds:?}"
    );
    drop(hung);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wedged_loop_stops_the_pings_until_it_moves_again() {
    let h = Harness::start(world(), "[health]\ninterval = \"1s\"\n").await;
    let db = h.dir.path().join("state.db");
    let mut notify = Notify::bind(h.dir.path());
    let mut child = spawn_monitor(&h, &notify, Duration::from_secs(1));
    // The pinger says on stderr each time it holds a ping back.
    let stderr = child.0.stderr.take().expect("stderr is piped");
    let (tx, held_back) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("not pinging the watchdog") {
                let _ = tx.send(());
            }
        }
    });
    let (notify, locked) = blocking(move || {
        assert!(
            notify.collect_until(Duration::from_secs(10), |t| t.contains("READY=1")),
            "no READY=1: {:?}",
            notify.seen
        );
        // Another writer holds the state file: the next round's record waits on SQLite's busy
        // timeout (5 s), inside the loop. That is a wedge the watchdog must see. It is held
        // until the pinger has held back two pings.
        let holder = rusqlite::Connection::open(&db).expect("open");
        holder.execute_batch("BEGIN IMMEDIATE").expect("lock");
        let locked = Instant::now();
        let mut withheld = 0;
        while withheld < 2 {
            assert!(
                locked.elapsed() < Duration::from_secs(10),
                "the pinger held back {withheld} pings for the stuck loop: {:?}",
                notify.seen
            );
            notify.collect_until(Duration::from_millis(100), |_| false);
            withheld += held_back.try_iter().count();
        }
        holder.execute_batch("ROLLBACK").expect("unlock");
        let released = Instant::now();
        assert!(
            notify.collect_until(Duration::from_secs(5), |t| t.contains("WATCHDOG=1")),
            "the pings did not resume once the loop moved again: {:?}",
            notify.seen
        );
        stop(child, &mut notify);
        (notify, (locked, released))
    })
    .await;
    let (locked, released) = locked;
    let pings: Vec<Instant> = notify.all("WATCHDOG=1").iter().map(|m| m.at).collect();
    let longest_gap_while_locked = pings
        .windows(2)
        .filter(|w| w[1] > locked && w[0] < released)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or(released - locked);
    // Two held back pings make a gap of 1.5 s; systemd acts on one of WatchdogSec=1s.
    assert!(
        longest_gap_while_locked >= Duration::from_secs(1),
        "the pings went on while the loop was stuck: longest gap {longest_gap_while_locked:?}"
    );
}
