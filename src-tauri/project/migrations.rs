//! What a rollback crosses: the Django migrations the release live now has and the rollback's
//! target does not, read from the two commits' trees (`<app>/migrations/0*.py`). The database
//! keeps them after the rollback, and the older code may not work with what they changed.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;
use ts_rs::TS;

/// One migration file of one app.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Migration {
    /// The app's folder name (`shop`).
    pub app: String,
    /// The file's name without `.py` (`0007_add_price`).
    pub name: String,
}

/// The migrations the tree of `commit` holds; `None` when git cannot read that commit here.
pub async fn migrations_at(root: &Path, commit: &str) -> Option<BTreeSet<Migration>> {
    let listed = super::git::run_git(root, &["ls-tree", "-r", "--name-only", "-z", commit]).await?;
    Some(listed.split('\0').filter_map(migration_of).collect())
}

/// `shop/migrations/0007_add_price.py` (at any depth) as shop's 0007_add_price.
fn migration_of(path: &str) -> Option<Migration> {
    let mut parts = path.rsplit('/');
    let file = parts.next()?;
    let folder = parts.next()?;
    let app = parts.next()?;
    let name = file.strip_suffix(".py")?;
    (folder == "migrations" && name.starts_with('0')).then(|| Migration {
        app: app.to_owned(),
        name: name.to_owned(),
    })
}

/// The migrations `live` has and `target` does not, in order; `None` when either commit
/// cannot be read here (then nothing can be said either way).
pub async fn crossed(root: &Path, live: &str, target: &str) -> Option<Vec<Migration>> {
    let (live, target) = tokio::join!(migrations_at(root, live), migrations_at(root, target));
    let (live, target) = (live?, target?);
    Some(live.difference(&target).cloned().collect())
}

/// "The database keeps the changes of shop 0007_add_price and 0008_discount, and accounts
/// 0003_email; the older code may not work with them." `None` when there are none.
pub fn crossing_sentence(migrations: &[Migration]) -> Option<String> {
    if migrations.is_empty() {
        return None;
    }
    let mut apps: Vec<(String, Vec<String>)> = Vec::new();
    for migration in migrations {
        match apps.iter_mut().find(|(app, _)| *app == migration.app) {
            Some((_, names)) => names.push(migration.name.clone()),
            None => apps.push((migration.app.clone(), vec![migration.name.clone()])),
        }
    }
    let per_app: Vec<String> = apps
        .into_iter()
        .map(|(app, names)| format!("{app} {}", joined(&names, " and ")))
        .collect();
    // Apps apart with a comma before the last "and", so each app's own "and" reads as its own.
    Some(format!(
        "The database keeps the changes of {}; the older code may not work with them.",
        joined(&per_app, ", and ")
    ))
}

/// "a", "a and b", "a, b and c" (`last` before the last one).
fn joined(items: &[String], last: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., final_one] => format!("{}{last}{final_one}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::git::tests::git;

    fn write(root: &Path, path: &str) -> std::io::Result<()> {
        let file = root.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(file, "# a migration\n")
    }

    #[tokio::test]
    async fn the_migrations_added_after_the_target_are_named_and_none_says_nothing(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        git(root, &["init", "-q"])?;
        for path in [
            "shop/migrations/__init__.py",
            "shop/migrations/0001_initial.py",
            "accounts/migrations/0001_initial.py",
            "shop/models.py",
        ] {
            write(root, path)?;
        }
        git(root, &["add", "."])?;
        git(root, &["commit", "-qm", "one"])?;
        let old = git(root, &["rev-parse", "HEAD"])?;
        std::fs::write(root.join("shop/models.py"), "changed\n")?;
        git(root, &["commit", "-qam", "no migration"])?;
        let same = git(root, &["rev-parse", "HEAD"])?;
        for path in [
            "shop/migrations/0002_add_price.py",
            "shop/migrations/0003_discount.py",
            "src/accounts/migrations/0002_email.py",
            "docs/migrations/README.md",
        ] {
            write(root, path)?;
        }
        git(root, &["add", "."])?;
        git(root, &["commit", "-qm", "two"])?;
        let new = git(root, &["rev-parse", "HEAD"])?;

        assert_eq!(crossed(root, &same, &old).await, Some(Vec::new()));
        assert_eq!(crossing_sentence(&[]), None, "no migration in between: nothing is said");
        let crossed = crossed(root, &new, &old).await.ok_or("both commits read")?;
        assert_eq!(
            crossing_sentence(&crossed).as_deref(),
            Some(
                "The database keeps the changes of accounts 0002_email, and shop 0002_add_price and \
                 0003_discount; the older code may not work with them."
            )
        );
        let one_app = [Migration {
            app: "shop".to_owned(),
            name: "0007_add_price".to_owned(),
        }];
        assert_eq!(
            crossing_sentence(&one_app).as_deref(),
            Some("The database keeps the changes of shop 0007_add_price; the older code may not work with them.")
        );
        assert_eq!(
            super::crossed(root, &old, &new).await,
            Some(Vec::new()),
            "forward crosses nothing back"
        );
        assert_eq!(
            super::crossed(root, "0123456789abcdef", &old).await,
            None,
            "an unknown commit says nothing"
        );
        Ok(())
    }
}
