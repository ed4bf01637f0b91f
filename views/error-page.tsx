import { Layout, type Viewer } from "./layout.tsx";

export function ErrorPage(props: { status: number; message: string; viewer?: Viewer }) {
  return (
    <Layout title={`Error ${props.status}`} viewer={props.viewer}>
      <section class="card card-narrow">
        <h1>Error {props.status}</h1>
        <p safe>{props.message}</p>
        <p>
          <a href="/">Back to the dashboard</a>
        </p>
      </section>
    </Layout>
  );
}
