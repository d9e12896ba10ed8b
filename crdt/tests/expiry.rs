//! Expiry published by member nodes: once a node's clock passes a device certificate's
//! expiry (plus its spread), it publishes the expiry action, and the device is retired on
//! every replica, causally.

use qun_crdt::replicate::{EXPIRY_CHECK_MS, EXPIRY_SPREAD_MS};
use qun_crdt::test_utils::*;
use qun_crdt::*;
use qun_identity::{Capabilities, DeviceCert, Signed, Timestamp};

#[test]
fn member_nodes_publish_expiry_of_device_certificates() {
    let (f, a, tablet) = (key(1), key(2), key(40));
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut rf =
        Replicator::<usize>::new(f.clone(), f.member_id(), None, Config::default()).unwrap();
    let c = rf.create(T0, g.clone()).unwrap();
    // The tablet's certificate expires one minute in.
    let expires = T0.plus_millis(60_000);
    let cert = DeviceCert {
        member: a.member_id(),
        device: tablet.device_id(),
        capabilities: Capabilities::ALL,
        label: "tablet".into(),
        not_before: Timestamp::ZERO,
        expires: Some(expires),
    };
    let cert = Signed::sign(&a, cert).unwrap().to_bytes();
    let mut ct = replica(&g, &tablet);
    ct.edit(
        &tablet,
        T0,
        Edit::Govern(join_action(&a.member_id(), Some(cert), None, None)),
    )
    .unwrap();
    for (d, h) in ct.all_changes() {
        let (b, s) = ct.signed_change(&d, &h).unwrap();
        rf.community_mut(&c).unwrap().ingest(&d, &b, &s).unwrap();
    }
    assert!(
        rf.community(&c)
            .unwrap()
            .state()
            .devices
            .contains_key(&tablet.device_id())
    );
    // Run the founder's timers until well past the expiry and its spread.
    let end = expires.plus_millis(EXPIRY_SPREAD_MS + 2 * EXPIRY_CHECK_MS);
    let mut now = T0;
    while now < end {
        now = rf.poll_timeout().unwrap().max(now.plus_millis(1));
        rf.handle(now, Input::Tick);
        rf.drain().for_each(drop);
    }
    let st = rf.community(&c).unwrap().state();
    assert!(!st.devices.contains_key(&tablet.device_id()));
    assert!(st.revoked.contains_key(&tablet.device_id()));
}
