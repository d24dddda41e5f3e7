import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { type Movie as MovieMessage, MovieSchema, type MovieService } from "../../gen/movie/v1/movie_pb.js";
import type { Movie, Movies } from "../domain/movies.js";

export function movieService(movies: Movies): ServiceImpl<typeof MovieService> {
  return {
    getMovie: async ({ id }) => ({ movie: toMessage(await movies.get(id)) }),

    async *listMovies({ titleContains, directorContains }, { signal }) {
      for await (const movie of movies.list({ titleContains, directorContains }, signal)) {
        yield { movie: toMessage(movie) };
      }
    },

    createMovie: async ({ id, title, director, rating }) => ({ movie: toMessage(await movies.create({ id, title, director, rating })) }),

    updateMovie: async ({ id, title, director, rating }) => ({ movie: toMessage(await movies.update(id, { title, director, rating })) }),

    deleteMovie: async ({ id }) => {
      await movies.delete(id);
      return {};
    },
  };
}

function toMessage(movie: Movie): MovieMessage {
  return create(MovieSchema, movie);
}
