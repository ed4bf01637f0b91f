import { defineSoak } from "./soak.ts";

defineSoak({ runtime: "local", env: {}, seconds: 45, engine: "pier" });
