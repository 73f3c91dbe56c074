/** Example: a Spring Boot WebFlux service that runs named jobs under Locket file locks. */
package io.github.locket.examples.webflux;
