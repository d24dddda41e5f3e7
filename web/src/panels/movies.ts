import { create } from "@bufbuild/protobuf";
import type { Movie } from "../../../gen/movie/v1/movie_pb.js";
import { CreateMovieRequestSchema, MovieService, UpdateMovieRequestSchema } from "../../../gen/movie/v1/movie_pb.js";
import { client } from "../api.js";
import { byId, debounce, h } from "../dom.js";
import { clearError, isCancel, showError, showProblem } from "../errors.js";
import { checkBeforeSending } from "../field-problem.js";
import { preloadRules } from "../rules.js";
import { onReadCredentialsChange } from "../session.js";

/** The listing's order, as the server sorts it: by title, then id. */
function byTitle(x: Movie, y: Movie): number {
  return x.title.localeCompare(y.title) || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);
}

function contains(text: string, part: string): boolean {
  return text.toLowerCase().includes(part.trim().toLowerCase());
}

function parseRating(text: string): number | string {
  const value = Number(text);
  if (text.trim() === "" || Number.isNaN(value)) return "Enter a rating from 0 to 10.";
  return value;
}

export function setUpMovies(): void {
  const titleFilter = byId("movie-title-filter", HTMLInputElement);
  const directorFilter = byId("movie-director-filter", HTMLInputElement);
  const filterForm = byId("movie-filter", HTMLFormElement);
  const list = byId("movie-list", HTMLUListElement);
  const status = byId("movie-status", HTMLParagraphElement);
  const listError = byId("movie-list-error", HTMLParagraphElement);

  const detail = byId("movie-detail", HTMLElement);
  const detailTitle = byId("movie-detail-title", HTMLHeadingElement);
  const detailDirector = byId("movie-detail-director", HTMLElement);
  const detailId = byId("movie-detail-id", HTMLElement);
  const editForm = byId("movie-edit", HTMLFormElement);
  const rating = byId("movie-rating", HTMLInputElement);
  const deleteButton = byId("movie-delete", HTMLButtonElement);
  const closeButton = byId("movie-close", HTMLButtonElement);
  const detailError = byId("movie-detail-error", HTMLParagraphElement);

  const createForm = byId("movie-create", HTMLFormElement);
  const newTitle = byId("movie-new-title", HTMLInputElement);
  const newDirector = byId("movie-new-director", HTMLInputElement);
  const newRating = byId("movie-new-rating", HTMLInputElement);
  const createError = byId("movie-create-error", HTMLParagraphElement);

  /** The movies shown, in listing order; kept in step with every change this page makes. */
  let movies: Movie[] = [];
  let selected: Movie | undefined;
  let listing: AbortController | undefined;

  const matchesFilter = (movie: Movie) => contains(movie.title, titleFilter.value) && contains(movie.director, directorFilter.value);

  const item = (movie: Movie) =>
    h(
      "li",
      {},
      h(
        "button",
        { type: "button", class: "movie", "data-id": movie.id, "aria-pressed": String(movie.id === selected?.id) },
        h("span", { class: "title" }, movie.title),
        h("span", { class: "director" }, movie.director),
        h("span", { class: "rating", "aria-label": `rated ${movie.rating.toFixed(1)} out of 10` }, `★ ${movie.rating.toFixed(1)}`),
      ),
    );

  const countText = () => `${movies.length} movie${movies.length === 1 ? "" : "s"}`;
  const render = () => {
    list.replaceChildren(...movies.map(item));
    status.textContent = countText();
  };

  /** Streams the catalogue in, drawing each movie as it arrives. */
  const load = async () => {
    listing?.abort();
    const controller = new AbortController();
    listing = controller;
    clearError(listError);
    movies = [];
    list.replaceChildren();
    status.textContent = "Streaming…";
    list.setAttribute("aria-busy", "true");
    try {
      const stream = client(MovieService).listMovies(
        { titleContains: titleFilter.value.trim(), directorContains: directorFilter.value.trim() },
        { signal: controller.signal },
      );
      for await (const { movie } of stream) {
        if (movie === undefined) continue;
        movies.push(movie);
        list.append(item(movie));
        status.textContent = `Streaming… ${countText()}`;
      }
      status.textContent = movies.length === 0 ? "No movie matches." : countText();
    } catch (failure) {
      if (isCancel(failure)) return;
      status.textContent = "";
      showError(listError, failure);
    } finally {
      if (listing === controller) {
        listing = undefined;
        list.removeAttribute("aria-busy");
      }
    }
  };

  const select = async (id: string) => {
    clearError(detailError);
    try {
      const { movie } = await client(MovieService).getMovie({ id });
      if (movie === undefined) return;
      selected = movie;
      detailTitle.textContent = movie.title;
      detailDirector.textContent = movie.director;
      detailId.textContent = movie.id;
      rating.value = movie.rating.toFixed(1);
      detail.hidden = false;
      for (const button of list.querySelectorAll<HTMLButtonElement>("button.movie")) {
        button.setAttribute("aria-pressed", String(button.dataset.id === id));
      }
      rating.focus();
    } catch (failure) {
      detail.hidden = false;
      showError(detailError, failure);
    }
  };

  const close = () => {
    const id = selected?.id;
    selected = undefined;
    detail.hidden = true;
    clearError(detailError);
    for (const button of list.querySelectorAll<HTMLButtonElement>("button.movie")) button.setAttribute("aria-pressed", "false");
    if (id !== undefined) list.querySelector<HTMLButtonElement>(`button[data-id="${CSS.escape(id)}"]`)?.focus();
  };

  list.addEventListener("click", (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>("button.movie");
    if (button?.dataset.id !== undefined) void select(button.dataset.id);
  });
  closeButton.addEventListener("click", close);
  detail.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });

  editForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (selected === undefined) return;
    clearError(detailError);
    const value = parseRating(rating.value);
    if (typeof value === "string") return showProblem(detailError, value);
    const request = create(UpdateMovieRequestSchema, { id: selected.id, rating: value });
    if (!(await checkBeforeSending(UpdateMovieRequestSchema, request, { rating }))) return;
    try {
      const { movie } = await client(MovieService).updateMovie(request);
      if (movie === undefined) return;
      selected = movie;
      rating.value = movie.rating.toFixed(1);
      movies = movies.map((known) => (known.id === movie.id ? movie : known));
      render();
    } catch (failure) {
      showError(detailError, failure);
    }
  });

  deleteButton.addEventListener("click", async () => {
    if (selected === undefined) return;
    clearError(detailError);
    const { id } = selected;
    try {
      await client(MovieService).deleteMovie({ id });
      movies = movies.filter((movie) => movie.id !== id);
      render();
      selected = undefined;
      detail.hidden = true;
      titleFilter.focus();
    } catch (failure) {
      showError(detailError, failure);
    }
  });

  createForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(createError);
    const value = parseRating(newRating.value);
    if (typeof value === "string") return showProblem(createError, value);
    const request = create(CreateMovieRequestSchema, { title: newTitle.value, director: newDirector.value, rating: value });
    const fields = { title: newTitle, director: newDirector, rating: newRating };
    if (!(await checkBeforeSending(CreateMovieRequestSchema, request, fields))) return;
    try {
      const { movie } = await client(MovieService).createMovie(request);
      if (movie === undefined) return;
      if (matchesFilter(movie)) {
        movies = [...movies, movie].sort(byTitle);
        render();
      }
      newTitle.value = "";
      newDirector.value = "";
      void select(movie.id);
    } catch (failure) {
      showError(createError, failure);
    }
  });

  // The rules load while a movie is being written, not when it is sent.
  newTitle.addEventListener("focus", preloadRules, { once: true });
  rating.addEventListener("focus", preloadRules, { once: true });

  const reload = debounce(() => void load(), 250);
  titleFilter.addEventListener("input", reload);
  directorFilter.addEventListener("input", reload);
  // Enter lists at once (a form with two fields and no button is never submitted by Enter).
  const loadNow = () => {
    reload.cancel();
    void load();
  };
  filterForm.addEventListener("submit", (event) => {
    event.preventDefault();
    loadNow();
  });
  filterForm.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    loadNow();
  });

  // Signing in or out changes what reads return when the server wants a token for them.
  onReadCredentialsChange(() => void load());
  void load();
}
