//! Each machine's `TimeoutSeconds` leaves room for every poll loop to reach its cap: a run that hits
//! the machine timeout skips its `Catch`, so the timeout must never be the first limit reached.

use serde_json::Value;

/// The longest interval any status action asks to wait (`prepare` while the cluster is CREATING,
/// and the cleanup's lease poll).
const LONGEST_POLL_SECONDS: u64 = 30;

fn caps(states: &serde_json::Map<String, Value>) -> u64 {
    states
        .values()
        .map(|state| {
            let nested: u64 = state["Branches"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|branch| caps(branch["States"].as_object().unwrap()))
                .sum();
            let own: u64 = state["Choices"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|rule| std::iter::once(rule).chain(rule["And"].as_array().into_iter().flatten()))
                .filter_map(|rule| rule["NumericGreaterThanEquals"].as_u64())
                .sum();
            nested + own
        })
        .sum()
}

#[test]
fn every_poll_cap_is_reached_well_before_the_machine_timeout() {
    for definition in asl_gen::definitions() {
        let name = definition.file_name;
        let json: Value = serde_json::from_str(&definition.text).unwrap();
        let polls = caps(json["States"].as_object().unwrap());
        let timeout = json["TimeoutSeconds"].as_u64().unwrap();
        assert!(polls > 200, "{name}: {polls} polls counted");
        assert!(
            timeout * 2 >= polls * LONGEST_POLL_SECONDS * 3,
            "{name}: TimeoutSeconds {timeout} is less than 1.5 x {polls} polls x {LONGEST_POLL_SECONDS} s"
        );
    }
}
