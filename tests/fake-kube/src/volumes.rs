//! In-memory file systems: one per EFS file system id (shared by every pod that mounts it and kept
//! until the server is dropped), one per `emptyDir` volume, and one per container for paths
//! outside any mount.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

/// A tree of text files; directories exist when created as parents of a file or as mount points.
#[derive(Debug)]
pub struct FileTree {
    files: BTreeMap<String, String>,
    dirs: BTreeSet<String>,
}

impl Default for FileTree {
    fn default() -> Self {
        Self {
            files: BTreeMap::new(),
            dirs: BTreeSet::from(["/".to_string()]),
        }
    }
}

/// What a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    File,
    Dir,
}

impl FileTree {
    /// `path` is absolute and normalized (see [`normalize`]).
    pub fn entry(&self, path: &str) -> Option<Entry> {
        if self.files.contains_key(path) {
            Some(Entry::File)
        } else if self.dirs.contains(path) {
            Some(Entry::Dir)
        } else {
            None
        }
    }

    pub fn read(&self, path: &str) -> Option<&str> {
        self.files.get(path).map(String::as_str)
    }

    /// Writes (or appends to) a file, creating its parent directories.
    pub fn write(&mut self, path: &str, text: &str, append: bool) {
        self.make_parents(path);
        let file = self.files.entry(path.to_string()).or_default();
        if !append {
            file.clear();
        }
        file.push_str(text);
    }

    pub fn make_dir(&mut self, path: &str) {
        self.make_parents(path);
        self.dirs.insert(path.to_string());
    }

    /// The names directly inside the directory `path`, sorted.
    pub fn children(&self, path: &str) -> Vec<String> {
        self.descendants(path)
            .into_iter()
            .filter(|relative| !relative.contains('/'))
            .collect()
    }

    /// Every file and directory below `path`, as paths relative to it, sorted.
    pub fn descendants(&self, path: &str) -> Vec<String> {
        let prefix = dir_prefix(path);
        let mut paths: Vec<String> = self
            .files
            .keys()
            .chain(self.dirs.iter())
            .filter_map(|p| {
                p.strip_prefix(&prefix)
                    .filter(|rest| !rest.is_empty())
                    .map(str::to_string)
            })
            .collect();
        paths.sort();
        paths.dedup();
        paths
    }

    /// Every file: absolute path → content.
    pub fn files(&self) -> BTreeMap<String, String> {
        self.files.clone()
    }

    fn make_parents(&mut self, path: &str) {
        let mut parent = path;
        while let Some((head, _)) = parent.rsplit_once('/') {
            parent = if head.is_empty() { "/" } else { head };
            if !self.dirs.insert(parent.to_string()) || parent == "/" {
                break;
            }
        }
    }
}

fn dir_prefix(path: &str) -> String {
    if path == "/" { "/".into() } else { format!("{path}/") }
}

/// A shared, lockable tree.
#[derive(Clone, Debug, Default)]
pub struct SharedTree(Arc<Mutex<FileTree>>);

impl SharedTree {
    pub fn lock(&self) -> MutexGuard<'_, FileTree> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The EFS file systems the cluster has seen, by file system id (`fs-…`).
#[derive(Debug, Default)]
pub struct FileSystems(Mutex<HashMap<String, SharedTree>>);

impl FileSystems {
    /// The file system `id`, created empty on first use.
    pub fn get_or_create(&self, id: &str) -> SharedTree {
        let mut file_systems = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        file_systems.entry(id.to_string()).or_default().clone()
    }

    /// The files of `id` (empty when no pod mounted it yet).
    pub fn files(&self, id: &str) -> BTreeMap<String, String> {
        let file_systems = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        file_systems.get(id).map(|tree| tree.lock().files()).unwrap_or_default()
    }
}

/// `/data/./a//b/../c` → `/data/a/c`; relative paths are taken from `/` (the containers' cwd).
pub fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_create_parents_and_listings_are_sorted() {
        let mut tree = FileTree::default();
        tree.write("/b.txt", "1\n", true);
        tree.write("/b.txt", "2\n", true);
        tree.write("/a/x.txt", "x", false);
        assert_eq!(tree.read("/b.txt"), Some("1\n2\n"));
        assert_eq!(tree.entry("/a"), Some(Entry::Dir));
        assert_eq!(tree.children("/"), ["a", "b.txt"]);
        assert_eq!(tree.descendants("/"), ["a", "a/x.txt", "b.txt"]);
        tree.write("/b.txt", "3\n", false);
        assert_eq!(tree.read("/b.txt"), Some("3\n"));
    }

    #[test]
    fn file_systems_are_shared_by_id() {
        let file_systems = FileSystems::default();
        file_systems.get_or_create("fs-1").lock().write("/f", "hi", false);
        assert_eq!(file_systems.files("fs-1")["/f"], "hi");
        assert!(file_systems.files("fs-2").is_empty());
    }

    #[test]
    fn paths_are_normalized() {
        assert_eq!(normalize("/data/./a//b/../c"), "/data/a/c");
        assert_eq!(normalize("data/"), "/data");
        assert_eq!(normalize("/.."), "/");
    }
}
