//! twinkey errors as JavaScript `Error`s: `name` `TwinkeyError`, `code` (stable, e.g.
//! `TOKEN_PROVIDER`) and `family` (`tokens`, ...), never a thrown string.

use js_sys::Reflect;
use wasm_bindgen::JsValue;

/// The JS error for a twinkey error.
pub(crate) fn to_js(e: &twinkey::Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("TwinkeyError");
    let obj: &JsValue = err.as_ref();
    let _ = Reflect::set(obj, &"code".into(), &e.code().into());
    let _ = Reflect::set(obj, &"family".into(), &e.family().into());
    err.into()
}
