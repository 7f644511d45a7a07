//! Requests no limit applies to (the health probes, which orchestrators and load balancers
//! send all day) go around a server's limiter middleware altogether: [`exempting`] decides
//! from the request alone, before the limiter's boxed future or anything else is
//! allocated, and calls the app directly. Every other request goes through the limiter.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::Error;
use actix_web::body::EitherBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use futures_util::TryFutureExt as _;
use futures_util::future::{Either, MapOk};

/// `limiter` (such as `middleware::from_fn(enforce)`) for every request but those
/// `is_exempt` picks, which reach the app unlimited.
pub fn exempting<T>(is_exempt: fn(&ServiceRequest) -> bool, limiter: T) -> Exempting<T> {
    Exempting { is_exempt, limiter }
}

/// See [`exempting`].
#[derive(Debug, Clone)]
pub struct Exempting<T> {
    is_exempt: fn(&ServiceRequest) -> bool,
    limiter: T,
}

type InitFuture<S> = Pin<Box<dyn Future<Output = Result<S, ()>>>>;

impl<S, B, T> Transform<S, ServiceRequest> for Exempting<T>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    T: Transform<
            Rc<S>,
            ServiceRequest,
            Response = ServiceResponse<EitherBody<B>>,
            Error = Error,
            InitError = (),
        >,
    T::Transform: 'static,
    T::Future: 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = ExemptingService<S, T::Transform>;
    type InitError = ();
    type Future = InitFuture<Self::Transform>;

    fn new_transform(&self, service: S) -> Self::Future {
        let app = Rc::new(service);
        let limited = self.limiter.new_transform(app.clone());
        let is_exempt = self.is_exempt;
        // Once per worker at startup, not per request.
        Box::pin(async move {
            Ok(ExemptingService {
                is_exempt,
                app,
                limited: limited.await?,
            })
        })
    }
}

#[doc(hidden)]
pub struct ExemptingService<S, L> {
    is_exempt: fn(&ServiceRequest) -> bool,
    app: Rc<S>,
    limited: L,
}

type Unlimited<B> = fn(ServiceResponse<B>) -> ServiceResponse<EitherBody<B>>;

impl<S, B, L> Service<ServiceRequest> for ExemptingService<S, L>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    L: Service<ServiceRequest, Response = ServiceResponse<EitherBody<B>>, Error = Error>,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = Either<MapOk<S::Future, Unlimited<B>>, L::Future>;

    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // The limiter is ready when the app it calls is.
        self.limited.poll_ready(cx)
    }

    fn call(&self, request: ServiceRequest) -> Self::Future {
        if (self.is_exempt)(&request) {
            let unlimited: Unlimited<B> = ServiceResponse::map_into_left_body;
            Either::Left(self.app.call(request).map_ok(unlimited))
        } else {
            Either::Right(self.limited.call(request))
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::middleware::{Next, from_fn};
    use actix_web::{App, HttpResponse, test, web};

    use super::*;

    fn probe(request: &ServiceRequest) -> bool {
        request.path() == "/healthz"
    }

    #[actix_web::test]
    async fn exempt_requests_skip_the_limiter_and_the_rest_meet_it() {
        let refuse_everything = from_fn(
            |request: ServiceRequest, _next: Next<actix_web::body::BoxBody>| async move {
                Ok::<_, Error>(
                    request
                        .into_response(HttpResponse::TooManyRequests().finish())
                        .map_into_right_body(),
                )
            },
        );
        let app = test::init_service(
            App::new()
                .route("/healthz", web::get().to(HttpResponse::Ok))
                .route("/login", web::get().to(HttpResponse::Ok))
                .wrap(exempting(probe, refuse_everything)),
        )
        .await;
        let status = |path: &'static str| {
            let app = &app;
            async move {
                test::call_service(app, test::TestRequest::get().uri(path).to_request())
                    .await
                    .status()
                    .as_u16()
            }
        };
        assert_eq!(status("/healthz").await, 200);
        assert_eq!(status("/login").await, 429);
        assert_eq!(status("/healthz/").await, 429, "exact paths only");
    }
}
