//! Sybil resistance on a realistic honest graph (2,000 members, community-structured,
//! power-law, 30 % lurkers) with a 1,000-node Sybil region.

use qun_trust::Csr;
use qun_trust::eval::{SybilExperiment, SybilReport, run_sybil_experiment};
use qun_trust::sybil::SybilParams;
use qun_trust::synth::{WotParams, community_wot};

fn experiment(attack_edges: usize, count: usize, internal_degree: usize) -> SybilReport {
    experiment_back(attack_edges, count, internal_degree, attack_edges)
}

fn experiment_back(
    attack_edges: usize,
    count: usize,
    internal_degree: usize,
    back_edges: usize,
) -> SybilReport {
    let honest = community_wot(&WotParams::with_members(2_000), 42).unwrap();
    let csr = Csr::from_edges(honest.nodes, honest.edges.clone()).unwrap();
    let exp = SybilExperiment {
        sybil: SybilParams {
            count,
            attack_edges,
            internal_degree,
            back_edges,
        },
        seed: 7,
        ..SybilExperiment::default()
    };
    run_sybil_experiment(&csr, &honest.founders, &exp).unwrap()
}

#[test]
fn admitted_sybils_stay_under_the_attack_edge_bound() {
    for (g, d) in [(50, 8), (200, 8), (50, 1), (200, 1)] {
        let r = experiment(g, 1_000, d);
        assert!(r.sybils_admitted as u64 <= r.admission_bound, "{r:?}");
        assert!(r.honest_acceptance >= 0.95, "honest acceptance {r:?}");
    }
}

#[test]
fn ranking_separates_honest_from_sybils() {
    for d in [8, 1] {
        let r50 = experiment(50, 1_000, d);
        assert!(
            r50.auc >= 0.95,
            "AUC at 50 attack edges, internal degree {d}: {r50:?}"
        );
        let r200 = experiment(200, 1_000, d);
        assert!(
            r200.auc >= 0.90,
            "AUC at 200 attack edges, internal degree {d}: {r200:?}"
        );
    }
}

#[test]
fn sybil_mass_and_admissions_do_not_grow_with_the_number_of_sybils() {
    // No Sybil → honest edges here, so the honest side (and its capacities) is identical.
    let small = experiment_back(50, 250, 8, 0);
    let large = experiment_back(50, 2_000, 8, 0);
    assert!(
        large.sybil_mass <= small.sybil_mass * 1.1 + 1e-4,
        "{} vs {}",
        small.sybil_mass,
        large.sybil_mass
    );
    assert!(large.sybils_admitted as u64 <= large.admission_bound);
    // The bound depends on the honest ends of the attack edges only (their capacity can
    // differ by whether their own attack edge leads one level further out).
    assert!(
        large.admission_bound as f64 <= small.admission_bound as f64 * 1.25,
        "{small:?} {large:?}"
    );
    assert!(
        large.sybils_admitted <= small.sybils_admitted.max(1) * 2,
        "{small:?} {large:?}"
    );
}

#[test]
fn reports_are_deterministic_and_serialisable() {
    let a = experiment(50, 300, 4);
    let b = experiment(50, 300, 4);
    assert_eq!(a, b);
    let json = serde_json::to_string(&a).unwrap();
    assert!(json.contains("\"auc\""));
}
