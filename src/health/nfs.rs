//! NFS server reachability: a TCP connect to the server's NFS port, with a deadline.
//!
//! The mount probe says whether the mount answers; this says whether the server does, which names
//! the cause when a hard mount hangs. The address comes from the mount's `addr=` option (the
//! kernel resolved it at mount time, so no DNS lookup can hang here) and the port from `port=`,
//! else 2049.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

use super::mounts::MountEntry;
use super::{Category, Finding, Health};

const NFS_PORT: u16 = 2049;

/// Where the NFS server of `entry` listens; `None` when the mount table does not say.
pub fn endpoint(entry: &MountEntry) -> Option<SocketAddr> {
    let host = match entry.super_option("addr") {
        Some(addr) => addr.to_owned(),
        // `server:/export` or `[fe80::1]:/export`: only a literal address is usable here.
        None => {
            let (host, _) = entry.source.rsplit_once(":/")?;
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned()
        }
    };
    let ip = host.parse().ok()?;
    let port = match entry
        .super_option("port")
        .and_then(|p| p.parse::<u16>().ok())
    {
        Some(p) if p != 0 => p,
        _ => NFS_PORT,
    };
    Some(SocketAddr::new(ip, port))
}

/// Connects to the NFS server of `entry` within `timeout`.
pub async fn check_server(entry: &MountEntry, timeout: Duration) -> Finding {
    let check = format!("NFS server of {}", entry.mount_point);
    let Some(addr) = endpoint(entry) else {
        return Finding::new(
            Category::Network,
            check,
            Health::Degraded,
            format!(
                "cannot tell the server's address from the mount source {}",
                entry.source
            ),
        );
    };
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(Ok(_)) => Finding::ok(Category::Network, check, format!("{addr} answers")),
        Ok(Err(err)) => Finding::new(
            Category::Network,
            check,
            Health::Unhealthy,
            format!("{addr} refuses or cannot be reached: {err}"),
        ),
        Err(_) => Finding::new(
            Category::Network,
            check,
            Health::Unhealthy,
            format!(
                "{addr} does not answer within {}",
                humantime::format_duration(timeout)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::mounts::parse_mountinfo;

    fn entry(source: &str, options: &str) -> MountEntry {
        let line = format!("40 22 0:38 / /srv/media rw - nfs4 {source} {options}");
        parse_mountinfo(&line).remove(0)
    }

    #[test]
    fn the_endpoint_comes_from_addr_and_port() {
        let e = entry("nas.lan:/export", "rw,vers=4.2,addr=192.168.1.10");
        assert_eq!(
            endpoint(&e),
            Some("192.168.1.10:2049".parse().expect("addr"))
        );
        let e = entry("nas.lan:/export", "rw,port=20049,addr=10.0.0.2");
        assert_eq!(endpoint(&e), Some("10.0.0.2:20049".parse().expect("addr")));
        let e = entry("[fd00::5]:/export", "rw,vers=4.2");
        assert_eq!(endpoint(&e), Some("[fd00::5]:2049".parse().expect("addr")));
        // A host name without addr= would need DNS, which can hang: not guessed.
        assert_eq!(endpoint(&entry("nas.lan:/export", "rw")), None);
    }

    #[tokio::test]
    async fn a_listening_server_is_ok_and_a_closed_port_is_unhealthy() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let up = entry("127.0.0.1:/x", &format!("rw,port={port},addr=127.0.0.1"));
        let finding = check_server(&up, Duration::from_secs(2)).await;
        assert_eq!(finding.health, Health::Ok, "{finding:?}");

        drop(listener);
        let finding = check_server(&up, Duration::from_secs(2)).await;
        assert_eq!(finding.health, Health::Unhealthy, "{finding:?}");
        assert!(finding.detail.contains(&format!("127.0.0.1:{port}")));
    }
}
