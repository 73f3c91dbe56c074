package io.github.locket.examples.webflux;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.reactive.result.method.annotation.ResponseEntityExceptionHandler;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * Every error as an RFC 9457 problem ({@code application/problem+json}), not only the ones {@link
 * JobController} answers itself (400 for a bad name, 409, 503):
 *
 * <ul>
 *   <li>Spring's own errors, through {@link ResponseEntityExceptionHandler}: 404 for an unknown
 *       path, 405 for a method other than {@code POST} (with {@code Allow}), 400 for a parameter of
 *       the wrong type, 406, 415.
 *   <li>Anything else (a job that fails, a bug): 500, logged here, with a detail that does not show
 *       the exception to the client.
 * </ul>
 *
 * (Spring Boot's {@code spring.webflux.problemdetails.enabled=true} does the first part; this class
 * replaces it, because the 500 needs a handler too.)
 */
@RestControllerAdvice
public class Problems extends ResponseEntityExceptionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(Problems.class);

    /**
     * Answers 500 for an exception that nothing else handled.
     *
     * @param failure the exception
     * @param exchange the request that failed
     * @return a 500 problem
     */
    @ExceptionHandler(Exception.class)
    public Mono<ResponseEntity<ProblemDetail>> unexpected(Exception failure, ServerWebExchange exchange) {
        LOG.error("{} {} failed", exchange.getRequest().getMethod(), exchange.getRequest().getPath(), failure);
        ProblemDetail body = ProblemDetail.forStatusAndDetail(HttpStatus.INTERNAL_SERVER_ERROR,
                "the request failed; the service's log says why");
        body.setTitle("Internal error");
        return Mono.just(ResponseEntity.internalServerError().body(body));
    }
}
