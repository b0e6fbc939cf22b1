//! Desafio 2's writer: the `app.py` of write-up 001, with rusqlite.
//!
//! Each run opens (or creates) `data.db` in the data directory, adds one
//! random student, and returns every row. The program keeps nothing itself:
//! all state is in the file, so a new container started on the same volume
//! sees every row the old ones wrote. That is the lesson of the challenge.
//!
//! Several writers may run at once on one volume. Each does its whole work in
//! one `BEGIN IMMEDIATE` transaction with a generous busy timeout: SQLite then
//! queues the writers instead of failing with "database is locked", and each
//! one prints a consistent snapshot that includes its own row.

use std::{
    fs,
    io::Read,
    path::{Path, PathBuf},
    time::Duration,
};

use rusqlite::{params, Connection, ErrorCode, OpenFlags, TransactionBehavior};

/// The file name inside the data directory, as in the write-up.
pub const DB_FILE: &str = "data.db";

/// The table every run makes sure of before it adds its row.
pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS alunos (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    nome      TEXT    NOT NULL,
    idade     INTEGER NOT NULL,
    curso     TEXT    NOT NULL,
    criado_em TEXT    NOT NULL
)";

/// How long a writer waits for the others before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The first 16 bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Why a run failed. Each says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum WriterError {
    #[error(
        "cannot write to {dir}: {reason}. Mount a writable volume there \
         (docker run -v desafio2-volume:/data ...)"
    )]
    NotWritable { dir: PathBuf, reason: String },
    #[error(
        "{path} exists but is not a SQLite database; it was left untouched. \
         Move it away or use another volume"
    )]
    NotADatabase { path: PathBuf },
    #[error("database error on {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
}

/// One row of the `alunos` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aluno {
    pub id: i64,
    pub nome: String,
    pub idade: i64,
    pub curso: String,
    pub criado_em: String,
}

/// What one run did: the student it added and every row after adding it.
#[derive(Debug)]
pub struct Report {
    pub added: Aluno,
    pub all: Vec<Aluno>,
    pub path: PathBuf,
}

/// A student to insert, before the database gives it an id.
#[derive(Debug, Clone)]
pub struct NewAluno {
    pub nome: String,
    pub idade: i64,
    pub curso: String,
}

const NOMES: &[&str] = &[
    "Ana", "Bruno", "Carla", "Diego", "Elisa", "Felipe", "Gabriela", "Heitor", "Isabela", "João",
    "Larissa", "Marcos", "Natália", "Otávio", "Paula", "Rafael", "Sofia", "Tiago", "Valéria",
];
const SOBRENOMES: &[&str] = &[
    "Silva", "Souza", "Oliveira", "Santos", "Pereira", "Lima", "Costa", "Ferreira", "Almeida",
    "Ribeiro", "Carvalho", "Gomes",
];
const CURSOS: &[&str] = &[
    "Ciência da Computação",
    "Engenharia de Software",
    "Sistemas de Informação",
    "Análise e Desenvolvimento de Sistemas",
    "Redes de Computadores",
];

impl NewAluno {
    /// A random student, as the original's `random.choice` calls made.
    pub fn random(rng: &mut fastrand::Rng) -> Self {
        let pick =
            |rng: &mut fastrand::Rng, list: &[&str]| list[rng.usize(..list.len())].to_owned();
        Self {
            nome: format!("{} {}", pick(rng, NOMES), pick(rng, SOBRENOMES)),
            idade: rng.i64(17..=45),
            curso: pick(rng, CURSOS),
        }
    }
}

/// Adds `aluno` to the database in `dir` and returns every row.
pub fn run(dir: &Path, aluno: &NewAluno) -> Result<Report, WriterError> {
    let path = dir.join(DB_FILE);
    refuse_foreign_file(&path)?;
    let sqlite = |source| WriterError::Sqlite {
        path: path.clone(),
        source,
    };
    let mut conn = open(dir, &path)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sqlite)?;

    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| classify(dir, &path, e))?;
    tx.execute_batch(SCHEMA)
        .map_err(|e| classify(dir, &path, e))?;
    let criado_em = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string();
    tx.execute(
        "INSERT INTO alunos (nome, idade, curso, criado_em) VALUES (?1, ?2, ?3, ?4)",
        params![aluno.nome, aluno.idade, aluno.curso, criado_em],
    )
    .map_err(|e| classify(dir, &path, e))?;
    let id = tx.last_insert_rowid();
    let all = {
        let mut stmt = tx
            .prepare("SELECT id, nome, idade, curso, criado_em FROM alunos ORDER BY id")
            .map_err(sqlite)?;
        let rows = stmt
            .query_map([], |row| {
                Ok(Aluno {
                    id: row.get(0)?,
                    nome: row.get(1)?,
                    idade: row.get(2)?,
                    curso: row.get(3)?,
                    criado_em: row.get(4)?,
                })
            })
            .map_err(sqlite)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(sqlite)?
    };
    tx.commit().map_err(|e| classify(dir, &path, e))?;

    let added = all
        .iter()
        .find(|a| a.id == id)
        .cloned()
        .ok_or_else(|| sqlite(rusqlite::Error::QueryReturnedNoRows))?;
    Ok(Report { added, all, path })
}

/// A file that is there but is not SQLite is someone else's data: refuse to
/// open it at all, rather than let SQLite decide what to do with it.
fn refuse_foreign_file(path: &Path) -> Result<(), WriterError> {
    let Ok(mut file) = fs::File::open(path) else {
        return Ok(()); // absent (or unreadable: opening will say so)
    };
    let mut header = [0u8; 16];
    match file.read_exact(&mut header) {
        Ok(()) if &header == SQLITE_HEADER => Ok(()),
        // An empty file is what SQLite itself leaves before the first write.
        Err(_) if file.metadata().is_ok_and(|m| m.len() == 0) => Ok(()),
        _ => Err(WriterError::NotADatabase {
            path: path.to_owned(),
        }),
    }
}

fn open(dir: &Path, path: &Path) -> Result<Connection, WriterError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    Connection::open_with_flags(path, flags).map_err(|e| classify(dir, path, e))
}

/// Turns the SQLite codes a learner can cause into the errors that explain
/// them.
fn classify(dir: &Path, path: &Path, error: rusqlite::Error) -> WriterError {
    match error.sqlite_error_code() {
        Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly | ErrorCode::PermissionDenied) => {
            WriterError::NotWritable {
                dir: dir.to_owned(),
                reason: error.to_string(),
            }
        }
        Some(ErrorCode::NotADatabase) => WriterError::NotADatabase {
            path: path.to_owned(),
        },
        _ => WriterError::Sqlite {
            path: path.to_owned(),
            source: error,
        },
    }
}

/// Every row as a plain-text table, then the total.
pub fn render(report: &Report) -> String {
    let header = ["id", "nome", "idade", "curso", "criado_em"];
    let rows: Vec<[String; 5]> = report
        .all
        .iter()
        .map(|a| {
            [
                a.id.to_string(),
                a.nome.clone(),
                a.idade.to_string(),
                a.curso.clone(),
                a.criado_em.clone(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!(" {c}{} ", " ".repeat(w - c.chars().count())))
            .collect();
        format!("|{}|\n", padded.join("|"))
    };
    let rule = format!("+{}+\n", widths.map(|w| "-".repeat(w + 2)).join("+"));

    let a = &report.added;
    let mut out = format!(
        "Aluno adicionado: #{} {} ({} anos), {}\n\n",
        a.id, a.nome, a.idade, a.curso
    );
    out.push_str(&rule);
    out.push_str(&line(&header.map(str::to_owned)));
    out.push_str(&rule);
    for row in &rows {
        out.push_str(&line(row));
    }
    out.push_str(&rule);
    let n = report.all.len();
    out.push_str(&format!(
        "Total: {n} {} em {}\n",
        if n == 1 { "aluno" } else { "alunos" },
        report.path.display()
    ));
    out
}
