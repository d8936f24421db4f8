import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import ch.qos.logback.classic.LoggerContext;

/**
 * Logs like a Spring service behind the usual ELK setup: logback with
 * logstash-logback-encoder's LogstashTcpSocketAppender (see logback.xml),
 * an MDC trace id, and an exception with a cause. The same events also go
 * to stdout as JSON, so the test can compare what was sent with what the
 * server stored.
 */
public class App {
    private static final Logger log = LoggerFactory.getLogger("com.example.payment.PaymentService");

    public static void main(String[] args) throws Exception {
        Thread.currentThread().setName("http-nio-8080-exec-1");
        MDC.put("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736");
        log.info("checkout started");
        try {
            charge();
        } catch (RuntimeException e) {
            log.error("결제 실패: 카드 한도 초과", e);
        }
        MDC.clear();
        // Stopping the context drains the appender's queue over the socket.
        ((LoggerContext) LoggerFactory.getILoggerFactory()).stop();
    }

    private static void charge() {
        try {
            throw new IllegalStateException("card limit exceeded");
        } catch (IllegalStateException cause) {
            throw new RuntimeException("payment declined", cause);
        }
    }
}
