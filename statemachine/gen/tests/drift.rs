//! Fails when a committed `statemachine/*.asl.json` differs from what the generator writes.

#[test]
fn committed_definitions_are_the_generated_ones() {
    let dir = asl_gen::statemachine_dir();
    for definition in asl_gen::definitions() {
        let path = dir.join(definition.file_name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == definition.text,
            "{} differs from the generator's output (statemachine/gen). Edit the generator, not the \
             JSON, then regenerate with `cargo run -p asl-gen` and commit both.",
            path.display()
        );
    }
}
