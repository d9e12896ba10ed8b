//! The economy simulation drives the real ledger: every week the book folded from the signed
//! payments agrees with every member's own account (checked inside `run`), the book sums to
//! zero at the end, a seed gives the same economy twice, and a limit refuses purchases.

use qun_crdt::ledger::CreditLimit;
use qun_sim::economy::{EconomyConfig, run};

#[test]
fn a_small_economy_is_deterministic_and_the_book_agrees_with_every_member() {
    let cfg = EconomyConfig {
        members: 60,
        weeks: 2,
        seed: 5,
        limit: CreditLimit::Fixed { amount: 20 },
    };
    let a = run(&cfg).unwrap();
    let b = run(&cfg).unwrap();
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    assert_eq!(a.weeks.len(), 2);
    assert!(a.volume > 0);
    assert!(
        a.weeks.iter().map(|w| w.refused).sum::<u64>() > 0,
        "free riders hit a 20-unit limit within two weeks"
    );
    for w in &a.weeks {
        assert!(w.p10 >= -20, "nobody is below the limit: {w:?}");
    }
    let t = run(&EconomyConfig {
        limit: CreditLimit::Trust { max: 40 },
        ..cfg
    })
    .unwrap();
    assert_eq!(t.weeks.len(), 2);
}
