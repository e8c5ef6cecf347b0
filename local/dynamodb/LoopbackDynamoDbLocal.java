import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts AWS's DynamoDB Local listening on 127.0.0.1 only.
 *
 * <p>DynamoDB Local has no host option: its server builds a Jetty {@code Server(port)}, whose one
 * connector binds every interface. This launcher, compiled once by {@code launcher.ts} and run as
 * {@code java -cp <classes>:DynamoDBLocal.jar:DynamoDBLocal_lib/* LoopbackDynamoDbLocal -port N ...},
 * builds the server from the same command-line options as {@code DynamoDBLocal.jar}, sets the
 * host of its (not yet opened) Jetty connectors to 127.0.0.1 and starts it. Unlike the jar's
 * main class it does not configure DynamoDB Local's telemetry, so none is sent.
 */
public final class LoopbackDynamoDbLocal {
  private static final String HOST = "127.0.0.1";

  private LoopbackDynamoDbLocal() {}

  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Server jetty = jettyOf(proxy);
    Connector[] connectors = jetty.getConnectors();
    if (connectors.length == 0) {
      throw new IllegalStateException("DynamoDB Local's Jetty server has no connector to bind");
    }
    for (Connector connector : connectors) {
      if (!(connector instanceof ServerConnector serverConnector)) {
        throw new IllegalStateException(
            "cannot bind a " + connector.getClass().getName() + " to " + HOST);
      }
      serverConnector.setHost(HOST);
    }
    proxy.start();
    System.out.println("DynamoDB Local listening on " + HOST);
  }

  /** The Jetty server DynamoDB Local keeps in a private field (found by type, not by name). */
  private static Server jettyOf(DynamoDBProxyServer proxy) throws IllegalAccessException {
    for (Field field : DynamoDBProxyServer.class.getDeclaredFields()) {
      if (Server.class.isAssignableFrom(field.getType())) {
        field.setAccessible(true);
        return (Server) field.get(proxy);
      }
    }
    throw new IllegalStateException(
        "this DynamoDB Local version keeps no Jetty server field; cannot bind it to " + HOST);
  }
}
