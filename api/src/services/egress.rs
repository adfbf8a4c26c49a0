//! Where outgoing webhooks may go: a platform chooses the URL, so the node must not become its
//! way into the node's own network (server-side request forgery).
//!
//! A URL must be `https` (plain `http` only when configured), carry no userinfo, and its host
//! must not be, or resolve to, a loopback, private (RFC 1918, IPv6 unique-local), link-local,
//! shared (CGNAT, 100.64.0.0/10), multicast, unspecified, broadcast or otherwise reserved
//! address, IPv4 and IPv6 alike (an IPv4 address inside IPv6, `::ffff:a.b.c.d` or
//! `64:ff9b::a.b.c.d`, is judged as the IPv4 address). The URL as written is checked when a
//! subscription is made (scheme, userinfo, address literals, `localhost`) and before each
//! delivery; names are checked on the address actually connected to: the HTTP client's resolver
//! ([`FilteringResolver`]) drops refused addresses, so a name that pointed at a public address
//! when it was subscribed and at `127.0.0.1` later (DNS rebinding) is never connected to.
//! Subscribing does not resolve the name: the answer then would prove nothing about later ones.
//!
//! Internal deployments name the networks their receivers live in ([`EgressPolicy::allow`]);
//! `jejak dev` allows loopback.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use ipnet::IpNet;

/// Longest subscription URL.
pub const MAX_URL_BYTES: usize = 2048;

/// What outgoing requests may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    /// Plain `http://` URLs are accepted (deliveries are still signed, but readable on the way).
    pub allow_http: bool,
    /// Loopback addresses (and `localhost`) are allowed: `jejak dev`.
    pub allow_loopback: bool,
    /// Networks allowed although internal (an internal deployment's receivers).
    pub allow: Vec<IpNet>,
}

/// Why an address or URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EgressError {
    /// Not a URL the node delivers to.
    #[error("{0}")]
    BadUrl(String),
    /// The address is in a refused range.
    #[error("{addr} is a {range} address")]
    Refused {
        /// The address.
        addr: IpAddr,
        /// Which range.
        range: &'static str,
    },
    /// The name resolved to refused addresses only (or to none).
    #[error("{host} resolves to no address deliveries may go to{}", .first.as_ref().map(|e| format!(" ({e})")).unwrap_or_default())]
    NoAllowedAddress {
        /// The host name.
        host: String,
        /// The first refusal.
        first: Option<Box<EgressError>>,
    },
}

/// The range an address is refused for, if any, before allow-lists.
pub fn refused_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(a) => refused_v4(a),
        IpAddr::V6(a) => {
            // IPv4 inside IPv6 is judged as IPv4: mapped (::ffff:0:0/96), compatible (::/96,
            // deprecated) and NAT64 (64:ff9b::/96); the local-use NAT64 prefix is internal.
            if let Some(v4) = a.to_ipv4_mapped() {
                return refused_v4(v4);
            }
            let s = a.segments();
            if s[..6] == [0; 6] && !a.is_unspecified() && !a.is_loopback() {
                return refused_v4(Ipv4Addr::from(((s[6] as u32) << 16) | s[7] as u32));
            }
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return refused_v4(Ipv4Addr::from(((s[6] as u32) << 16) | s[7] as u32));
            }
            if s[..3] == [0x64, 0xff9b, 1] {
                return Some("NAT64 local-use (64:ff9b:1::/48)");
            }
            refused_v6(a)
        }
    }
}

fn refused_v4(a: Ipv4Addr) -> Option<&'static str> {
    let o = a.octets();
    Some(match o {
        _ if a.is_unspecified() => "unspecified",
        [0, ..] => "this-network (0.0.0.0/8)",
        _ if a.is_loopback() => "loopback",
        _ if a.is_private() => "private (RFC 1918)",
        _ if a.is_link_local() => "link-local",
        [100, b, ..] if (64..128).contains(&b) => "shared (CGNAT, 100.64.0.0/10)",
        [192, 0, 0, _] => "IETF protocol assignment (192.0.0.0/24)",
        [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => "documentation",
        [198, 18 | 19, ..] => "benchmarking (198.18.0.0/15)",
        _ if a.is_multicast() => "multicast",
        _ if a.is_broadcast() => "broadcast",
        [240..=255, ..] => "reserved (240.0.0.0/4)",
        _ => return None,
    })
}

fn refused_v6(a: Ipv6Addr) -> Option<&'static str> {
    let s = a.segments();
    Some(match s[0] {
        _ if a.is_unspecified() => "unspecified",
        _ if a.is_loopback() => "loopback",
        x if x & 0xfe00 == 0xfc00 => "unique-local (private, fc00::/7)",
        x if x & 0xffc0 == 0xfe80 => "link-local",
        x if x & 0xffc0 == 0xfec0 => "site-local (fec0::/10)",
        x if x & 0xff00 == 0xff00 => "multicast",
        0x2001 if s[1] == 0x0db8 => "documentation",
        0x0100 if s[1..4] == [0, 0, 0] => "discard-only (100::/64)",
        _ => return None,
    })
}

impl EgressPolicy {
    /// Whether a connection to `ip` is allowed.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), EgressError> {
        let ip = ip.to_canonical();
        let Some(range) = refused_range(ip) else { return Ok(()) };
        if self.allow.iter().any(|n| n.contains(&ip)) || (self.allow_loopback && ip.is_loopback()) {
            return Ok(());
        }
        Err(EgressError::Refused { addr: ip, range })
    }

    /// Checks a subscription URL as written: scheme, no userinfo, length, and the host when it
    /// is an address or `localhost`. Returns the parsed URL.
    pub fn check_url(&self, url: &str) -> Result<reqwest::Url, EgressError> {
        let bad = |m: &str| EgressError::BadUrl(m.to_owned());
        if url.len() > MAX_URL_BYTES {
            return Err(bad("the URL is longer than 2048 bytes"));
        }
        let parsed = reqwest::Url::parse(url).map_err(|e| EgressError::BadUrl(format!("not a URL: {e}")))?;
        match parsed.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => return Err(bad("deliveries go to https:// URLs only (this node does not allow http://)")),
            _ => return Err(bad("deliveries go to https:// URLs only")),
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(bad("the URL must not carry a user name or password"));
        }
        // The URL parser already reads `0x7f000001` and `2130706433` as 127.0.0.1.
        let host = parsed.host_str().ok_or_else(|| bad("the URL names no host"))?;
        let literal = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        if let Ok(ip) = literal.parse::<IpAddr>() {
            self.check_ip(ip)?;
            return Ok(parsed);
        }
        let d = host.trim_end_matches('.').to_ascii_lowercase();
        if (d == "localhost" || d.ends_with(".localhost")) && !self.allow_loopback {
            return Err(EgressError::Refused { addr: IpAddr::V4(Ipv4Addr::LOCALHOST), range: "loopback" });
        }
        Ok(parsed)
    }

    /// The host of a checked URL when it is a name to resolve (not an address literal).
    pub fn host_name(url: &reqwest::Url) -> Option<&str> {
        let host = url.host_str()?;
        (!host.starts_with('[') && host.parse::<IpAddr>().is_err()).then_some(host)
    }

    fn filter(&self, host: &str, addrs: Vec<IpAddr>) -> Result<Vec<IpAddr>, EgressError> {
        let mut first = None;
        let mut allowed = Vec::new();
        for a in addrs {
            match self.check_ip(a) {
                Ok(()) => allowed.push(a),
                Err(e) => {
                    first.get_or_insert(Box::new(e));
                }
            }
        }
        if allowed.is_empty() {
            return Err(EgressError::NoAllowedAddress { host: host.to_owned(), first });
        }
        Ok(allowed)
    }
}

/// Looks a host name up: the system's resolver, or a test's.
pub trait LookupHost: Send + Sync + std::fmt::Debug {
    /// The addresses of `host`.
    fn lookup<'a>(&'a self, host: &'a str) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send + 'a>>;
}

/// The operating system's resolver.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemLookup;

impl LookupHost for SystemLookup {
    fn lookup<'a>(&'a self, host: &'a str) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send + 'a>> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host, 0)).await?.map(|a| a.ip()).collect()) })
    }
}

/// The HTTP client's resolver: looks names up with `lookup` and keeps only the addresses the
/// policy allows, so the address connected to is the address checked.
#[derive(Debug, Clone)]
pub struct FilteringResolver {
    /// The policy.
    pub policy: EgressPolicy,
    /// The lookup.
    pub lookup: Arc<dyn LookupHost>,
}

impl reqwest::dns::Resolve for FilteringResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let this = self.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs = this.lookup.lookup(&host).await?;
            let allowed = this.policy.filter(&host, addrs)?;
            let addrs: reqwest::dns::Addrs = Box::new(allowed.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// An HTTP client for deliveries under `policy`: names resolved through the policy, no
/// redirects, no proxies from the environment (a proxy would connect on the node's behalf to
/// an address the node never checked).
pub fn client(policy: &EgressPolicy, lookup: Arc<dyn LookupHost>) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(FilteringResolver { policy: policy.clone(), lookup }))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(p: &EgressPolicy, s: &str) -> bool {
        p.check_ip(s.parse().unwrap()).is_err()
    }

    #[test]
    fn every_internal_range_is_refused_in_ipv4_and_ipv6() {
        let p = EgressPolicy::default();
        for a in [
            "127.0.0.1",
            "127.255.255.254",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "224.0.0.1",
            "239.255.255.250",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "240.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "fec0::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:100.64.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::7f00:1",
        ] {
            assert!(refused(&p, a), "{a} must be refused");
        }
        for a in [
            "93.184.216.34",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!refused(&p, a), "{a} is public");
        }
    }

    #[test]
    fn allow_lists_and_loopback_in_dev() {
        let p = EgressPolicy { allow: vec!["10.20.0.0/16".parse().unwrap()], ..Default::default() };
        assert!(!refused(&p, "10.20.1.2"));
        assert!(refused(&p, "10.21.1.2"));
        assert!(refused(&p, "127.0.0.1"));
        let dev = EgressPolicy { allow_loopback: true, allow_http: true, ..Default::default() };
        assert!(!refused(&dev, "127.0.0.1") && !refused(&dev, "::1") && !refused(&dev, "::ffff:127.0.0.1"));
        assert!(refused(&dev, "10.0.0.1") && refused(&dev, "169.254.169.254"));
        assert!(dev.check_url("http://localhost:9000/hook").is_ok());
    }

    #[test]
    fn urls_are_checked_as_written() {
        let p = EgressPolicy::default();
        assert!(p.check_url("https://hooks.example/jejak").is_ok());
        for bad in [
            "http://hooks.example/jejak",
            "ftp://hooks.example/",
            "https://user:pw@hooks.example/",
            "https://127.0.0.1:5001/api/v0/shutdown",
            "https://[::1]/",
            "https://[::ffff:169.254.169.254]/latest/meta-data",
            "https://169.254.169.254/latest/meta-data",
            "https://0x7f000001/",
            "https://2130706433/",
            "https://localhost/",
            "https://a.localhost./",
            "not a url",
        ] {
            assert!(p.check_url(bad).is_err(), "{bad} must be refused");
        }
        let long = format!("https://hooks.example/{}", "a".repeat(MAX_URL_BYTES));
        assert!(p.check_url(&long).is_err());
        assert!(EgressPolicy { allow_http: true, ..Default::default() }.check_url("http://hooks.example/").is_ok());
    }
}
