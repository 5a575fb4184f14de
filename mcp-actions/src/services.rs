//! Typed shared services (a database pool, an HTTP client, a store) handed to actions.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A type map of shared services, registered on the server (or an
/// [`ActionTester`](crate::testing::ActionTester)) and reached by actions through
/// [`ActionContext::service`](crate::ActionContext::service) or a [`Service<T>`] argument.
#[derive(Clone, Default)]
pub struct Services {
    map: HashMap<TypeId, (Arc<dyn Any + Send + Sync>, &'static str)>,
}

impl Services {
    /// No services.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `value` as the service of type `T`, replacing any earlier one.
    pub fn insert<T: Send + Sync + 'static>(&mut self, value: T) -> &mut Self {
        self.insert_arc(Arc::new(value))
    }

    /// Registers an already shared service.
    pub fn insert_arc<T: Send + Sync + 'static>(&mut self, value: Arc<T>) -> &mut Self {
        self.map.insert(
            TypeId::of::<T>(),
            (
                value as Arc<dyn Any + Send + Sync>,
                std::any::type_name::<T>(),
            ),
        );
        self
    }

    /// Builder form of [`Services::insert`].
    pub fn with<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.insert(value);
        self
    }

    /// The service of type `T`, if registered.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        let (any, _) = self.map.get(&TypeId::of::<T>())?;
        Arc::clone(any).downcast::<T>().ok()
    }

    /// Whether a service with this type id is registered.
    pub fn contains(&self, key: &ServiceKey) -> bool {
        self.map.contains_key(&(key.type_id)())
    }

    /// The type names of the registered services.
    pub fn type_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.map.values().map(|(_, name)| *name)
    }
}

impl fmt::Debug for Services {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.type_names()).finish()
    }
}

/// Names a service type in a `const` context (the `#[action]` descriptor lists the services an
/// action needs, so a missing one is reported at start-up, not at the first call).
#[derive(Clone, Copy)]
pub struct ServiceKey {
    /// `TypeId::of::<T>`.
    pub type_id: fn() -> TypeId,
    /// `std::any::type_name::<T>`.
    pub type_name: fn() -> &'static str,
}

impl ServiceKey {
    /// The key of `T`.
    pub const fn of<T: 'static>() -> Self {
        Self {
            type_id: TypeId::of::<T>,
            type_name: std::any::type_name::<T>,
        }
    }
}

impl fmt::Debug for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str((self.type_name)())
    }
}

/// An action argument that receives a shared service:
///
/// ```
/// use mcp_actions::prelude::*;
/// # use std::sync::Mutex;
/// # #[derive(Default)] pub struct Store { items: Mutex<Vec<String>> }
/// # #[derive(Deserialize, JsonSchema)] pub struct In {}
/// # #[derive(Serialize, JsonSchema)] pub struct Out { count: usize }
///
/// /// Count the stored items.
/// #[action(title = "Count items", read_only)]
/// async fn count_items(_input: In, store: Service<Store>) -> Result<Out, ActionError> {
///     Ok(Out { count: store.items.lock().unwrap().len() })
/// }
/// ```
///
/// The service is reached through `Deref` (`store.items()`); the field is private so that
/// `service.0` means your own tuple struct's field, not the `Arc`.
pub struct Service<T: ?Sized>(Arc<T>);

impl<T: ?Sized> Service<T> {
    /// Wraps a shared service.
    pub fn new(service: Arc<T>) -> Self {
        Self(service)
    }

    /// The shared handle.
    pub fn arc(&self) -> &Arc<T> {
        &self.0
    }

    /// Unwraps the shared handle.
    pub fn into_arc(self) -> Arc<T> {
        self.0
    }
}

impl<T: ?Sized> Deref for Service<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized> Clone for Service<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Service<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
