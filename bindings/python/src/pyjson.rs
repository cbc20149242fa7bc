//! JSON values across the boundary: Python `dict`/`list`/`str`/`int`/`float`/`bool`/`None` to
//! `serde_json::Value` and back, for the core's JSON forms (`twinkey::token::wire`, the
//! control plane's `*Details`, rotation reports).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple};
use serde_json::{Map, Number, Value};

/// Deepest nesting accepted from Python (the core's documents are shallow).
const MAX_DEPTH: usize = 32;

/// A Python value as JSON. Mappings need `str` keys; tuples are lists.
pub fn to_value(v: &Bound<'_, PyAny>) -> PyResult<Value> {
    convert(v, 0)
}

fn convert(v: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err("the value is nested too deeply"));
    }
    if v.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if let Ok(i) = v.cast::<PyInt>() {
        if let Ok(n) = i.extract::<u64>() {
            return Ok(Value::Number(n.into()));
        }
        if let Ok(n) = i.extract::<i64>() {
            return Ok(Value::Number(n.into()));
        }
        return Err(PyValueError::new_err("an integer is out of range"));
    }
    if let Ok(f) = v.cast::<PyFloat>() {
        return Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err("NaN and infinities are not JSON"));
    }
    if let Ok(d) = v.cast::<PyDict>() {
        return object(d.iter(), depth);
    }
    if v.cast::<PyList>().is_ok() || v.cast::<PyTuple>().is_ok() {
        let items: PyResult<Vec<Value>> = v.try_iter()?.map(|x| convert(&x?, depth + 1)).collect();
        return Ok(Value::Array(items?));
    }
    if let Ok(m) = v.cast::<PyMapping>() {
        let items = m.items()?;
        let pairs: PyResult<Vec<(Bound<'_, PyAny>, Bound<'_, PyAny>)>> = items
            .iter()
            .map(|pair| pair.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>())
            .collect();
        return object(pairs?.into_iter(), depth);
    }
    Err(PyTypeError::new_err(format!(
        "{} is not a JSON value (dict, list, str, int, float, bool or None)",
        v.get_type().name()?
    )))
}

fn object<'py>(
    pairs: impl Iterator<Item = (Bound<'py, PyAny>, Bound<'py, PyAny>)>,
    depth: usize,
) -> PyResult<Value> {
    let mut out = Map::new();
    for (k, v) in pairs {
        let key = k
            .cast::<PyString>()
            .map_err(|_| PyTypeError::new_err("JSON object keys must be str"))?
            .to_cow()?
            .into_owned();
        out.insert(key, convert(&v, depth + 1)?);
    }
    Ok(Value::Object(out))
}

/// JSON as the Python value `json.loads` would give.
pub fn to_python<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for x in items {
                list.append(to_python(py, x)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, x) in map {
                dict.set_item(k, to_python(py, x)?)?;
            }
            dict.into_any()
        }
    })
}
