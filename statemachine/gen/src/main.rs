//! `cargo run -p asl-gen`: writes `statemachine/provision.asl.json` and `cleanup.asl.json`.

fn main() -> std::io::Result<()> {
    let dir = asl_gen::statemachine_dir();
    for definition in asl_gen::definitions() {
        let path = dir.join(definition.file_name);
        std::fs::write(&path, definition.text)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
