/** Fills public/vendor ahead of time, for images that ship without write access to the app dir. */
import { prepareAssets } from "../src/http/assets.ts";

await prepareAssets();
