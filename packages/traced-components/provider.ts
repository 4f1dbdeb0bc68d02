/**
 * The plugin entry. The Node language host runs a plugin by `require`-ing its directory, which Node resolves
 * through package.json `main` (this file), and hosts whatever components that module exports unless a host is
 * already running (@pulumi/pulumi cmd/run-plugin/run.ts). Starting componentProviderHost here picks the provider
 * name and the component list explicitly instead of deriving them from the npm name. TypeScript users import the
 * package through `exports` (src/index.ts) and never load this file.
 */
import { componentProviderHost } from "@pulumi/pulumi/provider/experimental";
import { providerOptions } from "./src/provider-options";

void componentProviderHost(providerOptions);
