//! TEMP stub until the helper branch merges.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ZSetValue;
impl ZSetValue {
    pub fn len(&self) -> usize {
        0
    }
    pub fn is_empty(&self) -> bool {
        true
    }
    pub fn memory_bytes(&self) -> usize {
        0
    }
}
