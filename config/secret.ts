// Kept while components/github and its tests still import the wrapper from here.
export { SecretValue } from "../components/secret";
