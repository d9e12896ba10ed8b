//! A per-IP limit of incoming connections (libp2p has none): a behaviour that refuses an
//! incoming connection while its remote IP address already has `max` connections, pending or
//! established. Relayed connections (`/p2p-circuit`) are not counted: their address is the
//! relay's, shared by everyone it relays.

use libp2p::core::Endpoint;
use libp2p::core::transport::PortUse;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::{
    ConnectionClosed, ConnectionDenied, ConnectionId, FromSwarm, ListenFailure, NetworkBehaviour,
    THandler, THandlerInEvent, THandlerOutEvent, ToSwarm, dummy,
};
use libp2p::{Multiaddr, PeerId};
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::IpAddr;
use std::task::{Context, Poll};

/// An incoming connection refused: its IP address has `limit` connections already.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("connection limit exceeded: at most {limit} incoming connections per IP address ({ip})")]
pub struct IpLimitExceeded {
    /// The remote address.
    pub ip: IpAddr,
    /// The limit.
    pub limit: u32,
}

/// Counts incoming connections per remote IP and refuses those over the limit.
#[derive(Debug, Default)]
pub struct Behaviour {
    max: Option<u32>,
    by_conn: HashMap<ConnectionId, IpAddr>,
    by_ip: HashMap<IpAddr, u32>,
}

/// The IP address of a direct connection's remote address (`None` for a relayed one).
fn ip_of(addr: &Multiaddr) -> Option<IpAddr> {
    if addr.iter().any(|p| matches!(p, Protocol::P2pCircuit)) {
        return None;
    }
    addr.iter().find_map(|p| match p {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    })
}

impl Behaviour {
    /// At most `max` incoming connections per IP address (`None`: no limit).
    pub fn new(max: Option<u32>) -> Self {
        Behaviour {
            max,
            ..Default::default()
        }
    }

    /// Connections counted for `ip` now.
    pub fn connections(&self, ip: &IpAddr) -> u32 {
        self.by_ip.get(ip).copied().unwrap_or(0)
    }

    fn release(&mut self, id: ConnectionId) {
        if let Some(ip) = self.by_conn.remove(&id)
            && let Some(n) = self.by_ip.get_mut(&ip)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.by_ip.remove(&ip);
            }
        }
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = Infallible;

    fn handle_pending_inbound_connection(
        &mut self,
        id: ConnectionId,
        _local: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        let (Some(limit), Some(ip)) = (self.max, ip_of(remote)) else {
            return Ok(());
        };
        let n = self.by_ip.entry(ip).or_insert(0);
        if *n >= limit {
            if *n == 0 {
                self.by_ip.remove(&ip);
            }
            return Err(ConnectionDenied::new(IpLimitExceeded { ip, limit }));
        }
        *n += 1;
        self.by_conn.insert(id, ip);
        Ok(())
    }

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match event {
            FromSwarm::ConnectionClosed(ConnectionClosed { connection_id, .. })
            | FromSwarm::ListenFailure(ListenFailure { connection_id, .. }) => {
                self.release(connection_id)
            }
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _: PeerId,
        _: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        libp2p::core::util::unreachable(event)
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_over_the_limit_per_ip_and_releases_on_failure() {
        let mut b = Behaviour::new(Some(2));
        let local: Multiaddr = "/ip4/127.0.0.1/tcp/1".parse().unwrap();
        let a: Multiaddr = "/ip4/10.0.0.1/tcp/5".parse().unwrap();
        let other: Multiaddr = "/ip4/10.0.0.2/tcp/5".parse().unwrap();
        let relayed: Multiaddr = "/ip4/10.0.0.1/tcp/5/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/p2p-circuit"
            .parse()
            .unwrap();
        let ids: Vec<ConnectionId> = (0..5)
            .map(|i| ConnectionId::new_unchecked(1_000_000 + i))
            .collect();
        assert!(
            b.handle_pending_inbound_connection(ids[0], &local, &a)
                .is_ok()
        );
        assert!(
            b.handle_pending_inbound_connection(ids[1], &local, &a)
                .is_ok()
        );
        let denied = b.handle_pending_inbound_connection(ids[2], &local, &a);
        assert!(denied.is_err_and(|e| e.downcast_ref::<IpLimitExceeded>().is_some()));
        assert!(
            b.handle_pending_inbound_connection(ids[3], &local, &other)
                .is_ok()
        );
        assert!(
            b.handle_pending_inbound_connection(ids[4], &local, &relayed)
                .is_ok()
        );
        b.release(ids[0]);
        assert_eq!(b.connections(&"10.0.0.1".parse().unwrap()), 1);
        b.release(ids[1]);
        b.release(ids[1]);
        assert_eq!(b.connections(&"10.0.0.1".parse().unwrap()), 0);
        assert!(!b.by_ip.contains_key(&"10.0.0.1".parse().unwrap()));
    }
}
