import type { ServiceImpl } from "@connectrpc/connect";
import type { Movie } from "../../../gen/tutorial/movie/movie_pb.js";
import type { Movies } from "../../domain/movies.js";

/** The movie tutorial's contract, answered by the same catalogue. */
export function tutorialMovieService(movies: Movies): ServiceImpl<typeof Movie> {
  return {
    getMovieByID: async ({ id }) => await movies.get(id),

    async *getListMovies(_request, { signal }) {
      yield* movies.list({ titleContains: "", directorContains: "" }, signal);
    },
  };
}
