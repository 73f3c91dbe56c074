package io.github.locket.examples.webflux;

import java.util.concurrent.locks.LockSupport;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import reactor.blockhound.BlockingOperationError;
import reactor.core.publisher.Mono;

/** Test only: blocks the event loop on purpose, so that a test can see BlockHound catch it in the server. */
@RestController
class BlockingCanaryController {
    @GetMapping("/test/block-the-event-loop")
    Mono<String> block() {
        // map, not fromCallable: reactor-core 3.8's MonoCallable catches only Exception, and an Error
        // (BlockingOperationError is one) thrown there is lost instead of signalled.
        return Mono.just("parked")
                .map(v -> {
                    LockSupport.parkNanos(1_000);
                    return "not caught";
                })
                .onErrorResume(BlockingOperationError.class, e -> Mono.just("caught on "
                        + Thread.currentThread().getName() + ": " + e.getMessage()));
    }
}
