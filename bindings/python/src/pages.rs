//! `list_all`'s page iterators: each step fetches the page the previous answer's
//! `opc-next-page` named (the first without one), and the iteration ends after the page that
//! names none. A failed fetch raises and may be retried by asking again.

use std::sync::{Arc, Mutex};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use twinkey::control::ListApiKeys;
use twinkey_client::{CallOptions, Page};

use crate::control::Control;
use crate::control_reply::PyListPage;
use crate::runtime::{awaitable, block_on};

/// Where a listing is.
enum Cursor {
    /// The parameters of the next page to fetch.
    Ready(ListApiKeys),
    /// A fetch is under way.
    Busy(ListApiKeys),
    /// The last page was returned.
    Done,
}

/// The shared cursor of one listing.
#[derive(Clone)]
struct Pages {
    control: Control,
    cursor: Arc<Mutex<Cursor>>,
}

fn busy() -> PyErr {
    PyRuntimeError::new_err("a page of this listing is being fetched already")
}

impl Pages {
    fn new(control: Control, params: ListApiKeys) -> Self {
        Pages {
            control,
            cursor: Arc::new(Mutex::new(Cursor::Ready(params))),
        }
    }

    /// The parameters of the next page (`None`: done), marking the cursor busy.
    fn take(&self) -> PyResult<Option<ListApiKeys>> {
        let mut cursor = self.cursor.lock().map_err(|_| busy())?;
        match std::mem::replace(&mut *cursor, Cursor::Done) {
            Cursor::Ready(params) => {
                *cursor = Cursor::Busy(params.clone());
                Ok(Some(params))
            }
            Cursor::Busy(params) => {
                *cursor = Cursor::Busy(params);
                Err(busy())
            }
            Cursor::Done => Ok(None),
        }
    }

    /// Records a fetch's outcome: on to the next page, done, or (failed) the same page again.
    fn settle(cursor: &Mutex<Cursor>, page: Option<&Page>) {
        if let Ok(mut c) = cursor.lock() {
            let next = match (std::mem::replace(&mut *c, Cursor::Done), page) {
                (Cursor::Busy(params), Some(p)) => p
                    .next_page
                    .clone()
                    .map_or(Cursor::Done, |n| Cursor::Ready(params.at_page(Some(n)))),
                (Cursor::Busy(params), None) => Cursor::Ready(params),
                (other, _) => other,
            };
            *c = next;
        }
    }

    /// The fetch of one page, settling the cursor when it ends.
    fn fetch(
        &self,
        params: ListApiKeys,
    ) -> impl std::future::Future<Output = twinkey::Result<Page>> + Send + 'static {
        let work = self.control.list(Ok(params), CallOptions::default());
        let mut guard = Unsettled(Some(Arc::clone(&self.cursor)));
        async move {
            let out = work.await;
            if let Some(cursor) = guard.0.take() {
                Pages::settle(&cursor, out.as_ref().ok());
            }
            out
        }
    }
}

/// A fetch that was dropped before it ended (cancelled, interrupted) leaves the page to be
/// fetched again.
struct Unsettled(Option<Arc<Mutex<Cursor>>>);

impl Drop for Unsettled {
    fn drop(&mut self) {
        if let Some(cursor) = self.0.take() {
            Pages::settle(&cursor, None);
        }
    }
}

/// `ControlPlane.list_all(...)`: an iterator of `ListPage`s.
#[pyclass(module = "twinkey._native", name = "PageIterator", frozen)]
pub struct PyPageIterator {
    pages: Pages,
}

impl PyPageIterator {
    /// The pages of a listing, from its first page.
    pub fn new(control: Control, params: ListApiKeys) -> Self {
        PyPageIterator {
            pages: Pages::new(control, params),
        }
    }
}

#[pymethods]
impl PyPageIterator {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<PyListPage>> {
        let Some(params) = self.pages.take()? else {
            return Ok(None);
        };
        let work = self.pages.fetch(params);
        block_on(py, work, PyListPage::new).map(Some)
    }
}

/// `AsyncControlPlane.list_all(...)`: an async iterator of `ListPage`s.
#[pyclass(module = "twinkey._native", name = "AsyncPageIterator", frozen)]
pub struct PyAsyncPageIterator {
    pages: Pages,
}

impl PyAsyncPageIterator {
    /// The pages of a listing, from its first page.
    pub fn new(control: Control, params: ListApiKeys) -> Self {
        PyAsyncPageIterator {
            pages: Pages::new(control, params),
        }
    }
}

#[pymethods]
impl PyAsyncPageIterator {
    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(params) = self.pages.take()? else {
            return Ok(None);
        };
        let work = self.pages.fetch(params);
        awaitable(py, work, PyListPage::new).map(Some)
    }
}
