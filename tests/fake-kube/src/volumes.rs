//! In-memory file systems: one per EFS file system id (shared by every pod that mounts it and kept
//! until the server is dropped), one per `emptyDir` volume, and one per container for paths
//! outside any mount. EFS trees keep POSIX ownership and modes, checked as the NFS server checks
//! them for the caller's uid/gid (root, uid 0, passes every check; EFS squashes it to `nobody`
//! unless the file system policy grants root access, see `cluster::mounts`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

/// A tree of text files; directories exist when created as parents of a file or as mount points.
#[derive(Debug)]
pub struct FileTree {
    files: BTreeMap<String, String>,
    dirs: BTreeSet<String>,
    /// Who owns a path and its mode; a path without an entry is root's, `0755` (a directory, as
    /// EFS's root directory) or `0644` (a file).
    owners: BTreeMap<String, Ownership>,
}

impl Default for FileTree {
    fn default() -> Self {
        Self {
            files: BTreeMap::new(),
            dirs: BTreeSet::from(["/".to_string()]),
            owners: BTreeMap::new(),
        }
    }
}

/// The uid and gid a file operation runs as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
}

impl Identity {
    pub const ROOT: Self = Self { uid: 0, gid: 0 };
    /// What EFS makes of root without root access (`nfsnobody`).
    pub const NOBODY: Self = Self { uid: 65534, gid: 65534 };
}

/// A path's owner and permission bits (`0o750`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ownership {
    pub owner: Identity,
    pub mode: u32,
}

const READ: u32 = 4;
const WRITE: u32 = 2;
const EXECUTE: u32 = 1;

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

    /// Creates the directory owned by `ownership` unless it exists (an access point's root
    /// directory with its `CreationInfo`).
    pub fn make_dir_owned(&mut self, path: &str, ownership: Ownership) {
        if self.entry(path).is_none() {
            self.make_dir(path);
            self.owners.insert(path.to_string(), ownership);
        }
    }

    /// Records `who` as the owner of a path it just created (mode `0644` for a file).
    pub fn claim(&mut self, path: &str, who: Identity) {
        self.owners.entry(path.to_string()).or_insert(Ownership {
            owner: who,
            mode: 0o644,
        });
    }

    pub fn ownership(&self, path: &str) -> Ownership {
        self.owners.get(path).copied().unwrap_or(Ownership {
            owner: Identity::ROOT,
            mode: if self.entry(path) == Some(Entry::File) {
                0o644
            } else {
                0o755
            },
        })
    }

    /// Whether `who` may read the file `path` (search on every directory above it, read on it).
    pub fn may_read(&self, path: &str, who: Identity) -> bool {
        self.reachable(path, who) && self.permits(path, who, READ)
    }

    /// Whether `who` may list the directory `path`.
    pub fn may_list(&self, path: &str, who: Identity) -> bool {
        self.reachable(path, who) && self.permits(path, who, READ | EXECUTE)
    }

    /// Whether `who` may write the file `path`: write on it when it exists, else write and search
    /// on its directory.
    pub fn may_write(&self, path: &str, who: Identity) -> bool {
        self.reachable(path, who)
            && if self.entry(path).is_some() {
                self.permits(path, who, WRITE)
            } else {
                self.permits(parent(path), who, WRITE | EXECUTE)
            }
    }

    fn reachable(&self, path: &str, who: Identity) -> bool {
        let mut dir = path;
        while dir != "/" {
            dir = parent(dir);
            if !self.permits(dir, who, EXECUTE) {
                return false;
            }
        }
        true
    }

    fn permits(&self, path: &str, who: Identity, bits: u32) -> bool {
        if who.uid == 0 {
            return true;
        }
        let Ownership { owner, mode } = self.ownership(path);
        let class = if who.uid == owner.uid {
            mode >> 6
        } else if who.gid == owner.gid {
            mode >> 3
        } else {
            mode
        };
        class & bits == bits
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

fn parent(path: &str) -> &str {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/",
        Some((head, _)) => head,
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
    fn a_0750_directory_is_closed_to_other_users_and_groups() {
        let mut tree = FileTree::default();
        let owner = Identity { uid: 1000, gid: 1000 };
        tree.make_dir_owned("/ns", Ownership { owner, mode: 0o750 });
        assert!(tree.may_write("/ns/out1.txt", owner));
        tree.write("/ns/out1.txt", "x", true);
        tree.claim("/ns/out1.txt", owner);
        assert!(tree.may_read("/ns/out1.txt", owner));
        assert!(
            tree.may_read("/ns/out1.txt", Identity { uid: 1001, gid: 1000 }),
            "the group reads"
        );
        for stranger in [Identity::NOBODY, Identity { uid: 2000, gid: 2000 }] {
            assert!(!tree.may_read("/ns/out1.txt", stranger));
            assert!(!tree.may_list("/ns", stranger));
            assert!(!tree.may_write("/ns/x", stranger));
        }
        assert!(tree.may_list("/", Identity::NOBODY));
        assert!(
            !tree.may_write("/y", Identity::NOBODY),
            "EFS's root directory is root's, 0755"
        );
        assert!(tree.may_read("/ns/out1.txt", Identity::ROOT));
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
